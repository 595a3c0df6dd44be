import { assertEquals, assertRejects } from "../helpers/assert.ts";
import { ImgserveError } from "../../protocol/error_codes.ts";
import { closeHttpClients, idleSignal } from "../../src/transport/http_client.ts";
import {
  failureError,
  type RedirectRule,
  sendFollowing,
  type Side,
  statusCode,
} from "../../src/transport/http_exchange.ts";
import { openGuard } from "../../src/transport/mod.ts";
import { httpServer } from "../helpers/server.ts";

Deno.test("statuses map to one code per side: not found for a source only, 5xx worth retrying, else refused", () => {
  const table = (side: Side) => [301, 400, 403, 404, 410, 429, 500, 503].map((s) => `${s} ${statusCode(side, s)}`);
  assertEquals(table("source"), [
    "301 SOURCE_REFUSED",
    "400 SOURCE_REFUSED",
    "403 SOURCE_REFUSED",
    "404 SOURCE_NOT_FOUND",
    "410 SOURCE_NOT_FOUND",
    "429 SOURCE_REFUSED",
    "500 SOURCE_SERVER_ERROR",
    "503 SOURCE_SERVER_ERROR",
  ]);
  assertEquals(table("destination"), [
    "301 DESTINATION_REFUSED",
    "400 DESTINATION_REFUSED",
    "403 DESTINATION_REFUSED",
    "404 DESTINATION_REFUSED",
    "410 DESTINATION_REFUSED",
    "429 DESTINATION_REFUSED",
    "500 DESTINATION_SERVER_ERROR",
    "503 DESTINATION_SERVER_ERROR",
  ]);
});

Deno.test("failures map to codes per side: our own errors kept, abort reasons passed on, timeouts, refused connections", () => {
  const url = new URL("http://127.0.0.1:9/a.png");
  const own = new ImgserveError("NETWORK_FORBIDDEN", "no");
  const timeout = new DOMException("timed out", "TimeoutError");
  const refused = new TypeError("fetch failed", { cause: new Error("Connection refused (os error 111)") });
  const badCert = new TypeError("fetch failed", { cause: new Error("invalid peer certificate: UnknownIssuer") });
  const aborted = AbortSignal.abort(new Error("stop"));
  const deadline = AbortSignal.abort(new ImgserveError("SOURCE_TIMEOUT", "the job's time ran out"));
  const codes = (side: Side) =>
    [
      failureError(own, side, url),
      failureError(timeout, side, url),
      failureError(refused, side, url),
      failureError(badCert, side, url),
      failureError(refused, side, url, aborted),
      failureError(refused, side, url, deadline),
    ].map((err) => err.name);
  assertEquals(codes("source"), [
    "NETWORK_FORBIDDEN",
    "SOURCE_TIMEOUT",
    "SOURCE_UNREACHABLE",
    "SOURCE_REFUSED",
    "SOURCE_UNREACHABLE",
    "SOURCE_TIMEOUT",
  ]);
  assertEquals(codes("destination"), [
    "NETWORK_FORBIDDEN",
    "DESTINATION_TIMEOUT",
    "DESTINATION_UNREACHABLE",
    "DESTINATION_REFUSED",
    "DESTINATION_UNREACHABLE",
    "SOURCE_TIMEOUT",
  ]);
});

/** A server whose paths answer with the status in their name, redirecting to `/end`; counts the requests. */
function redirectingServer() {
  const seen: string[] = [];
  const server = httpServer(async (req) => {
    const path = new URL(req.url).pathname;
    seen.push(`${req.method} ${path} ${(await req.arrayBuffer()).byteLength}`);
    if (path === "/end") return new Response("end");
    if (path === "/loop") return new Response(null, { status: 302, headers: { location: "/loop" } });
    if (path === "/ftp") return new Response(null, { status: 302, headers: { location: "ftp://127.0.0.1/a" } });
    return new Response(null, { status: Number(path.slice(1)), headers: { location: "/end" } });
  });
  return { server, seen };
}

async function send(base: string, path: string, method: string, redirects: RedirectRule) {
  const options = { timeoutMs: 5000, caCerts: [], guard: openGuard };
  const idle = idleSignal(options.timeoutMs);
  try {
    const body = method === "GET" ? undefined : new Uint8Array([1, 2, 3]);
    const { response, url } = await sendFollowing(new URL(base + path), { method, body }, {
      options,
      idle,
      side: "destination",
      redirects,
    });
    await response.body?.cancel();
    return `${response.status} ${url.pathname}`;
  } finally {
    idle.done();
  }
}

Deno.test("one redirect loop: every 3xx for a download, the standard five for a form, none for a PUT; a POST turns to GET as browsers do", async () => {
  const { server, seen } = redirectingServer();
  await using _ = server;
  try {
    assertEquals(await send(server.base, "/300", "GET", "any"), "200 /end");
    assertEquals(await send(server.base, "/300", "GET", "standard"), "300 /300");
    assertEquals(await send(server.base, "/307", "PUT", "none"), "307 /307");
    seen.length = 0;
    assertEquals(await send(server.base, "/302", "POST", "standard"), "200 /end");
    assertEquals(await send(server.base, "/303", "PUT", "standard"), "200 /end");
    assertEquals(await send(server.base, "/307", "POST", "standard"), "200 /end");
    assertEquals(await send(server.base, "/308", "PUT", "standard"), "200 /end");
    assertEquals(seen, [
      "POST /302 3",
      "GET /end 0",
      "PUT /303 3",
      "GET /end 0",
      "POST /307 3",
      "POST /end 3",
      "PUT /308 3",
      "PUT /end 3",
    ]);

    seen.length = 0;
    const loop = await assertRejects(() => send(server.base, "/loop", "GET", "any"), ImgserveError);
    assertEquals([loop.name, seen.length], ["DESTINATION_REFUSED", 11]);
    const ftp = await assertRejects(() => send(server.base, "/ftp", "GET", "any"), ImgserveError);
    assertEquals(ftp.name, "DESTINATION_REFUSED");
  } finally {
    await closeHttpClients();
  }
});
