import assert from "node:assert/strict";
import { makeTestCerts, type TestCerts } from "../../fixtures/certs.ts";
import { canRunVsftpd, startVsftpd } from "../../fixtures/ftp/vsftpd.ts";
import { download, optionsFor, randomBytes, rejectsWith, upload } from "../../fixtures/ftp/transfer.ts";

const ignore = !canRunVsftpd();

async function withCerts(test: (certs: TestCerts) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await test(await makeTestCerts(dir));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

for (const implicit of [true, false]) {
  const scheme = implicit ? "ftps" : "ftpes";
  Deno.test({
    name: `${scheme}: vsftpd transfers files both ways over TLS`,
    ignore,
    fn: () =>
      withCerts(async (certs) => {
        await using server = await startVsftpd({ certs, implicit, requireReuse: false });
        const options = optionsFor(certs.caPem);
        const base = `${scheme}://127.0.0.1:${server.port}`;
        const login = `${scheme}://${server.user}:${server.password}@127.0.0.1:${server.port}`;

        // Anonymous: upload, then read it back.
        const small = randomBytes(1500);
        await upload(`${base}/pub/anon.bin`, small, options);
        assert.deepEqual(await Deno.readFile(`${server.root}/pub/anon.bin`), small);
        assert.deepEqual(await download(`${base}/pub/anon.bin`, options), small);

        // A user with a password: placeholder, then overwrite, in new folders.
        await upload(`${login}/out/x/y.bin`, new TextEncoder().encode("placeholder"), options);
        const big = randomBytes(8 * 1024 * 1024);
        await upload(`${login}/out/x/y.bin`, big, options);
        assert.deepEqual(await Deno.readFile(`${server.root}/home/out/x/y.bin`), big);
        assert.deepEqual(await download(`${login}/out/x/y.bin`, options), big);
        assert.deepEqual(
          [...Deno.readDirSync(`${server.root}/home/out/x`)].map((e) => e.name),
          ["y.bin"],
        );

        const missing = await rejectsWith(download(`${login}/none.png`, options), "SOURCE_NOT_FOUND");
        assert.match(missing.message, /550/);
        const wrong = `${scheme}://${server.user}:nope@127.0.0.1:${server.port}/x`;
        const denied = await rejectsWith(download(wrong, options), "FTP_LOGIN_FAILED");
        assert.match(denied.message, /530/);
      }),
  });
}

// Measured, not assumed: Deno (rustls) does not resume the control
// connection's TLS session on the data connection, so vsftpd's default
// require_ssl_reuse=YES refuses every transfer with 522. If this test starts
// failing because the download works, Deno has learnt session reuse.
Deno.test({
  name: "ftpes: vsftpd requiring TLS session reuse refuses the transfer with a clear 522",
  ignore,
  fn: () =>
    withCerts(async (certs) => {
      await using server = await startVsftpd({ certs, implicit: false, requireReuse: true });
      await Deno.writeFile(`${server.root}/pub/r.bin`, randomBytes(100));
      const err = await rejectsWith(
        download(`ftpes://127.0.0.1:${server.port}/pub/r.bin`, optionsFor(certs.caPem)),
        "FTP_PROTOCOL",
      );
      assert.match(err.message, /522/);
      assert.match(err.message, /session reuse/);
    }),
});
