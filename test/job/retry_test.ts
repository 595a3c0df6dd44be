import { assert, assertEquals } from "../helpers/assert.ts";
import { decode, png, thirds } from "../helpers/images.ts";
import { resizeJob, waitFinished } from "../helpers/jobs.ts";
import { httpServer, serve, tempDir } from "../helpers/server.ts";
import { ImgserveError } from "../../protocol/error_codes.ts";
import { backoffMs, CALLBACK_ATTEMPTS, retriesCallback, retriesJob } from "../../src/job/retry.ts";

Deno.test("the wait doubles from the base with each failed try", () => {
  assertEquals([1, 2, 3, 4, 5].map((n) => backoffMs(250, n)), [250, 500, 1000, 2000, 4000]);
});

Deno.test("a job is tried again only after a passing failure and while attempts are left", () => {
  const unreachable = new ImgserveError("SOURCE_UNREACHABLE", "no answer");
  const notFound = new ImgserveError("SOURCE_NOT_FOUND", "gone");
  assertEquals(unreachable.transient, true);
  assertEquals(notFound.transient, false);
  assertEquals(retriesJob(unreachable, 1, 3), true);
  assertEquals(retriesJob(unreachable, 2, 3), true);
  assertEquals(retriesJob(unreachable, 3, 3), false);
  assertEquals(retriesJob(notFound, 1, 3), false);
});

Deno.test("a callback is sent again after any failure, up to its attempt count", () => {
  assertEquals(retriesCallback(1), true);
  assertEquals(retriesCallback(CALLBACK_ATTEMPTS - 1), true);
  assertEquals(retriesCallback(CALLBACK_ATTEMPTS), false);
});

Deno.test("a job whose destination answers 503 twice and then takes the result is done on attempt 3, its retries spaced by the doubling backoff; one that always gets 503 fails after --max-attempts", async () => {
  const BASE_MS = 800;
  await using dir = await tempDir();
  await Deno.writeFile(`${dir.path}/a.png`, await png(thirds(60, 40)));
  // Per path: when each PUT arrived and what it carried; the first PUT is the placeholder.
  const puts = new Map<string, { at: number; body: Uint8Array }[]>();
  await using destination = httpServer(async (request) => {
    const path = new URL(request.url).pathname;
    const seen = puts.get(path) ?? [];
    puts.set(path, seen);
    seen.push({ at: performance.now(), body: new Uint8Array(await request.arrayBuffer()) });
    const nth = seen.length;
    return new Response(null, { status: nth === 1 || (path === "/twice.png" && nth === 4) ? 201 : 503 });
  });
  // A journal scan every 300 ms (a third of the lease) picks a retry up soon after it is due.
  await using imgserve = await serve([
    "--retry-base-ms",
    String(BASE_MS),
    "--max-attempts",
    "3",
    "--lease-ms",
    "900",
    "--workers",
    "1",
  ]);
  const post = (name: string) =>
    imgserve.post(resizeJob(`file://${dir.path}/a.png`, `${destination.base}/${name}`, { width: 12 }));
  const [twice, always] = await Promise.all([post("twice.png"), post("always.png")]);
  assertEquals([twice.status, always.status], [202, 202]);
  const settled = (id: unknown) => waitFinished(imgserve.base, String(id), 15_000);

  const done = await settled(twice.json.id);
  assertEquals([done.state, done.attempts], ["done", 3]);
  const results = puts.get("/twice.png")!.slice(1);
  assertEquals(results.length, 3);
  const gaps = [results[1].at - results[0].at, results[2].at - results[1].at];
  assert(gaps[0] >= BASE_MS && gaps[1] >= 2 * BASE_MS, `retries ${gaps.map(Math.round)} ms apart`);
  assertEquals((await decode(results[2].body)).width, 12);

  const failed = await settled(always.json.id);
  assertEquals([failed.state, failed.attempts, failed.code], ["failed", 3, 305]);
  assertEquals(puts.get("/always.png")!.length, 1 + 3);
});
