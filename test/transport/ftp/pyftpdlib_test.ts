import { assert, assertEquals, assertMatch, assertNotMatch } from "../../helpers/assert.ts";
import { makeTestCerts } from "../../fixtures/certs.ts";
import { startPyftpd, type TestFtpServer } from "../../fixtures/ftp/pyftpd.ts";
import { download, optionsFor, randomBytes, recordingGuard, rejectsWith, upload } from "../../fixtures/ftp/transfer.ts";
import { ftpTransport } from "../../../src/transport/ftp/mod.ts";
import { ImgserveError } from "../../../protocol/error_codes.ts";

/** URL of `path` on `server`, with the test user's credentials when `login`. */
function urlOf(scheme: string, server: TestFtpServer, path: string, login = false): string {
  const auth = login ? `${encodeURIComponent(server.user)}:${encodeURIComponent(server.password)}@` : "";
  return `${scheme}://${auth}127.0.0.1:${server.port}/${path}`;
}

async function listTemps(folder: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(folder)) if (entry.name.includes("imgserve-tmp")) names.push(entry.name);
  return names;
}

for (const scheme of ["ftp", "ftpes"]) {
  Deno.test(`${scheme}: pyftpdlib transfers files both ways`, async (t) => {
    const certDir = await Deno.makeTempDir();
    const certs = scheme === "ftpes" ? await makeTestCerts(certDir) : undefined;
    await using server = await startPyftpd({ certs });
    const options = optionsFor(certs?.caPem);
    try {
      await t.step("an anonymous download returns the file's bytes", async () => {
        const bytes = randomBytes(1000);
        await Deno.writeFile(`${server.root}/a.bin`, bytes);
        assertEquals(await download(urlOf(scheme, server, "a.bin"), options), bytes);
      });

      await t.step("a download as a user with a %-encoded password works", async () => {
        const bytes = randomBytes(10);
        await Deno.mkdir(`${server.root}/with space`);
        await Deno.writeFile(`${server.root}/with space/b.bin`, bytes);
        const url = urlOf(scheme, server, "with%20space/b.bin", true);
        assertEquals(await download(url, options), bytes);
      });

      await t.step("an anonymous upload lands under the final name, no temporary left", async () => {
        const bytes = randomBytes(2000);
        await upload(urlOf(scheme, server, "up.bin"), bytes, options);
        assertEquals(await Deno.readFile(`${server.root}/up.bin`), bytes);
        assertEquals(await listTemps(server.root), []);
      });

      await t.step("an upload as a user overwrites an existing file", async () => {
        const url = urlOf(scheme, server, "over.bin", true);
        await upload(url, new TextEncoder().encode("placeholder"), options);
        const real = randomBytes(5000);
        await upload(url, real, options);
        assertEquals(await Deno.readFile(`${server.root}/over.bin`), real);
      });

      await t.step("an upload creates every missing folder level", async () => {
        const bytes = randomBytes(100);
        await upload(urlOf(scheme, server, "new/deeper/c.bin", true), bytes, options);
        assertEquals(await Deno.readFile(`${server.root}/new/deeper/c.bin`), bytes);
        assertEquals(await listTemps(`${server.root}/new/deeper`), []);
      });

      await t.step("8 MB go up and come back byte for byte", async () => {
        const bytes = randomBytes(8 * 1024 * 1024);
        const url = urlOf(scheme, server, "big/large.bin", true);
        await upload(url, bytes, options);
        assertEquals(await Deno.readFile(`${server.root}/big/large.bin`), bytes);
        const back = await download(url, options);
        assertEquals(back.byteLength, bytes.byteLength);
        assertEquals(back, bytes);
      });

      await t.step("a missing source rejects read() with SOURCE_NOT_FOUND and the server's 550", async () => {
        const err = await rejectsWith(download(urlOf(scheme, server, "nope.png"), options), "SOURCE_NOT_FOUND");
        assertMatch(err.message, /550/);
        assertEquals(err.code, 202);
      });

      await t.step("a wrong password fails with FTP_LOGIN_FAILED and the 530", async () => {
        const url = `${scheme}://${server.user}:wrong@127.0.0.1:${server.port}/a.bin`;
        const err = await rejectsWith(download(url, options), "FTP_LOGIN_FAILED");
        assertMatch(err.message, /530/);
        assertNotMatch(err.message, /wrong/);
      });

      await t.step("cancelling a download closes its connections", async () => {
        await Deno.writeFile(`${server.root}/cancel.bin`, randomBytes(4 * 1024 * 1024));
        const stream = await ftpTransport().read(new URL(urlOf(scheme, server, "cancel.bin")), options);
        const reader = stream.getReader();
        const first = await reader.read();
        assert(first.value && first.value.byteLength > 0);
        await reader.cancel();
        // The op and resource sanitizers fail the step if a socket is left.
      });
    } finally {
      await Deno.remove(certDir, { recursive: true });
    }
  });
}

Deno.test("ftp: without EPSV the client falls back to PASV and checks its address", async () => {
  await using server = await startPyftpd({ noEpsv: true });
  const guard = recordingGuard();
  const options = optionsFor(undefined, { guard });
  const bytes = randomBytes(3000);
  await upload(urlOf("ftp", server, "p/pasv.bin"), bytes, options);
  assertEquals(await download(urlOf("ftp", server, "p/pasv.bin"), options), bytes);
  assert(guard.checked.length >= 2);
  assert(guard.checked.every((address) => address === "127.0.0.1"));
  assertEquals(new Set(guard.resolved), new Set(["127.0.0.1"]));
});

Deno.test("ftp: a PASV address the guard refuses is never connected to", async () => {
  await using server = await startPyftpd({ noEpsv: true });
  await Deno.writeFile(`${server.root}/x.bin`, randomBytes(10));
  const guard = {
    resolve: (hostname: string) => Promise.resolve(hostname),
    checkAddress: (address: string) => {
      throw new ImgserveError("NETWORK_FORBIDDEN", `refused ${address}`);
    },
  };
  const err = await rejectsWith(
    download(urlOf("ftp", server, "x.bin"), optionsFor(undefined, { guard })),
    "NETWORK_FORBIDDEN",
  );
  assertMatch(err.message, /refused 127\.0\.0\.1/);
});

Deno.test("an upload spelled with an encoded y/../ and // lands at the collapsed path, making no folder y", async () => {
  await using server = await startPyftpd();
  const bytes = randomBytes(100);
  await upload(urlOf("ftp", server, "x/y%2F..%2F%2Fa.bin", true), bytes, optionsFor());
  assertEquals(await Deno.readFile(`${server.root}/x/a.bin`), bytes);
  const names: string[] = [];
  for await (const entry of Deno.readDir(`${server.root}/x`)) names.push(entry.name);
  assertEquals(names, ["a.bin"]);
});
