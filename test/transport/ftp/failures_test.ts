import { assert, assertEquals, assertMatch } from "../../helpers/assert.ts";
import { startBouncingServer, startNoTlsServer, startSilentServer } from "../../fixtures/ftp/fake_servers.ts";
import { makeTestCerts } from "../../fixtures/certs.ts";
import { startPyftpd } from "../../fixtures/ftp/pyftpd.ts";
import { download, optionsFor, rejectsWith, upload } from "../../fixtures/ftp/transfer.ts";

Deno.test("a server that accepts and then says nothing fails with FTP_TIMEOUT, not a hang", async () => {
  await using server = startSilentServer();
  const started = performance.now();
  const options = optionsFor(undefined, { timeoutMs: 300 });
  const err = await rejectsWith(download(`ftp://127.0.0.1:${server.port}/a.png`, options), "FTP_TIMEOUT");
  assertEquals(err.transient, true);
  assertMatch(err.message, /300 ms/);
  assert(performance.now() - started < 3000);
});

Deno.test("an abort signal stops a transfer waiting on a silent server at once", async () => {
  await using server = startSilentServer();
  const controller = new AbortController();
  const reason = new Error("the job was cancelled");
  const options = optionsFor(undefined, { timeoutMs: 60_000, signal: controller.signal });
  const work = upload(`ftp://127.0.0.1:${server.port}/a.png`, new Uint8Array(10), options);
  setTimeout(() => controller.abort(reason), 50);
  assertEquals(await work.then(() => "resolved", (err) => err), reason);
});

Deno.test("ftpes: a server refusing AUTH TLS gets FTP_TLS_REQUIRED and never sees USER or PASS", async () => {
  await using server = startNoTlsServer();
  const url = `ftpes://bob:secret@127.0.0.1:${server.port}/a.png`;
  const err = await rejectsWith(download(url, optionsFor()), "FTP_TLS_REQUIRED");
  assertMatch(err.message, /500 AUTH not understood/);
  assertEquals(server.received, ["AUTH TLS"]);
});

Deno.test("a 421 greeting is FTP_TRANSIENT with the server's words", async () => {
  await using server = startNoTlsServer("421 Too many connections, try later");
  const err = await rejectsWith(download(`ftp://127.0.0.1:${server.port}/a.png`, optionsFor()), "FTP_TRANSIENT");
  assertMatch(err.message, /421 Too many connections/);
  assertEquals(err.transient, true);
});

Deno.test("a closed port makes the source SOURCE_UNREACHABLE and the destination DESTINATION_UNREACHABLE", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  await rejectsWith(download(`ftp://127.0.0.1:${port}/a.png`, optionsFor()), "SOURCE_UNREACHABLE");
  await rejectsWith(
    upload(`ftp://127.0.0.1:${port}/a.png`, new Uint8Array(1), optionsFor()),
    "DESTINATION_UNREACHABLE",
  );
});

Deno.test("ftpes: a certificate from an unknown CA is refused before logging in", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await using server = await startPyftpd({ certs: await makeTestCerts(dir) });
    const url = `ftpes://${server.user}:x@127.0.0.1:${server.port}/a.png`;
    const err = await rejectsWith(download(url, optionsFor()), "SOURCE_REFUSED");
    assertMatch(err.message, /TLS|certificate/i);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a PASV reply naming another host's address is refused, and nothing connects there", async () => {
  await using server = startBouncingServer("10.9.8.7");
  const err = await rejectsWith(
    download(`ftp://127.0.0.1:${server.port}/a.png`, optionsFor()),
    "NETWORK_FORBIDDEN",
  );
  assertMatch(err.message, /10\.9\.8\.7/);
  assert(!server.received.some((line) => line.startsWith("RETR")), server.received.join(" | "));
});
