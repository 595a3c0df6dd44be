import { assertEquals, assertRejects } from "../helpers/assert.ts";
import { ImgserveError } from "../../protocol/error_codes.ts";
import { httpTransport } from "../../src/transport/http.ts";
import { closeHttpClients } from "../../src/transport/http_client.ts";
import { readAll, type TransferOptions } from "../../src/transport/mod.ts";
import { makeTestCerts } from "../fixtures/certs.ts";
import { tempDir } from "../helpers/server.ts";

/** A guard that answers every name with 127.0.0.1, as a DNS server would. */
function resolvingTo(address: string, seen: string[] = []): TransferOptions["guard"] {
  return {
    resolve: (hostname) => {
      seen.push(hostname);
      return Promise.resolve(address);
    },
    checkAddress: () => {},
  };
}

Deno.test("the connection goes to the address the guard checked, not to a fresh lookup", async () => {
  const hosts: string[] = [];
  await using server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    hosts.push(req.headers.get("host")!);
    return new Response("pinned");
  });
  try {
    const seen: string[] = [];
    // ".invalid" never resolves in DNS: only the checked address can be reached.
    const url = new URL(`http://rebind.invalid:${server.addr.port}/a.png`);
    const options = { timeoutMs: 5000, caCerts: [], guard: resolvingTo("127.0.0.1", seen) };
    const body = await readAll(await httpTransport().read(url, options), 1000);
    assertEquals(new TextDecoder().decode(body), "pinned");
    assertEquals(seen, ["rebind.invalid"]);
    assertEquals(hosts, [`rebind.invalid:${server.addr.port}`]);
  } finally {
    await closeHttpClients();
  }
});

Deno.test("HTTPS to a pinned address still verifies the certificate against the URL's name", async () => {
  await using dir = await tempDir();
  const certs = await makeTestCerts(dir.path);
  await using server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, cert: certs.cert, key: certs.key, onListen: () => {} },
    () => new Response("secure"),
  );
  try {
    const guard = resolvingTo("127.0.0.1");
    const named = new URL(`https://imgserve.test:${server.addr.port}/a.png`);
    const body = await readAll(
      await httpTransport().read(named, { timeoutMs: 5000, caCerts: [certs.caPem], guard }),
      1000,
    );
    assertEquals(new TextDecoder().decode(body), "secure");
    // The same address under a name the certificate does not carry is refused.
    const other = new URL(`https://elsewhere.test:${server.addr.port}/a.png`);
    const err = await assertRejects(
      () => httpTransport().read(other, { timeoutMs: 5000, caCerts: [certs.caPem], guard }),
      ImgserveError,
    );
    assertEquals(err.name, "SOURCE_REFUSED");
  } finally {
    await closeHttpClients();
  }
});
