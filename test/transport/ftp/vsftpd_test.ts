import { assertEquals, assertMatch } from "../../helpers/assert.ts";
import { withCerts } from "../../fixtures/certs.ts";
import { startVsftpd, VSFTPD } from "../../fixtures/ftp/vsftpd.ts";
import { download, optionsFor, randomBytes, rejectsWith, upload } from "../../fixtures/ftp/transfer.ts";
import { skipped } from "../../helpers/requirements.ts";

const ignore = skipped(VSFTPD);

for (const implicit of [true, false]) {
  const scheme = implicit ? "ftps" : "ftpes";
  Deno.test({
    name: `${scheme}: vsftpd transfers files both ways over TLS`,
    ignore,
    fn: () =>
      withCerts(async (certs) => {
        await using server = await startVsftpd({ certs, implicit });
        const options = optionsFor(certs.caPem);
        const base = `${scheme}://127.0.0.1:${server.port}`;
        const login = `${scheme}://${server.user}:${server.password}@127.0.0.1:${server.port}`;

        // Anonymous: upload, then read it back.
        const small = randomBytes(1500);
        await upload(`${base}/pub/anon.bin`, small, options);
        assertEquals(await Deno.readFile(`${server.root}/pub/anon.bin`), small);
        assertEquals(await download(`${base}/pub/anon.bin`, options), small);

        // A user with a password: placeholder, then overwrite, in new folders.
        await upload(`${login}/out/x/y.bin`, new TextEncoder().encode("placeholder"), options);
        const big = randomBytes(8 * 1024 * 1024);
        await upload(`${login}/out/x/y.bin`, big, options);
        assertEquals(await Deno.readFile(`${server.root}/home/out/x/y.bin`), big);
        assertEquals(await download(`${login}/out/x/y.bin`, options), big);
        assertEquals(
          [...Deno.readDirSync(`${server.root}/home/out/x`)].map((e) => e.name),
          ["y.bin"],
        );

        const missing = await rejectsWith(download(`${login}/none.png`, options), "SOURCE_NOT_FOUND");
        assertMatch(missing.message, /550/);
        const wrong = `${scheme}://${server.user}:nope@127.0.0.1:${server.port}/x`;
        const denied = await rejectsWith(download(wrong, options), "FTP_LOGIN_FAILED");
        assertMatch(denied.message, /530/);
      }),
  });
}

Deno.test({
  name: "ftpes: vsftpd with require_ssl_reuse=YES set explicitly serves the transfer (the session is resumed)",
  ignore,
  fn: () =>
    withCerts(async (certs) => {
      await using server = await startVsftpd({ certs, implicit: false, requireReuse: true });
      const bytes = randomBytes(100);
      await Deno.writeFile(`${server.root}/pub/r.bin`, bytes);
      assertEquals(await download(`ftpes://127.0.0.1:${server.port}/pub/r.bin`, optionsFor(certs.caPem)), bytes);
    }),
});

// Where OpenSSL cannot be loaded (here: no FFI permission), FTPS runs on
// Deno's TLS, which cannot resume sessions: such servers refuse with 522,
// and the message says why and what helps.
Deno.test({
  name:
    "without OpenSSL, FTPS falls back to Deno's TLS: a server not demanding reuse works, one demanding it gets a clear 522",
  ignore,
  fn: () =>
    withCerts(async (certs) => {
      const child = async (url: string) => {
        const script = new URL("../../fixtures/ftp/download_cli.ts", import.meta.url).pathname;
        const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
          args: ["run", "--allow-net", "--allow-read", script, url, certs.caFile],
          stdout: "piped",
          stderr: "piped",
        }).output();
        assertEquals(code, 0, new TextDecoder().decode(stderr));
        return JSON.parse(new TextDecoder().decode(stdout));
      };
      const bytes = randomBytes(100);
      {
        await using lenient = await startVsftpd({ certs, implicit: false, requireReuse: false });
        await Deno.writeFile(`${lenient.root}/pub/r.bin`, bytes);
        assertEquals(await child(`ftpes://127.0.0.1:${lenient.port}/pub/r.bin`), { bytes: 100 });
      }
      await using strict = await startVsftpd({ certs, implicit: false });
      await Deno.writeFile(`${strict.root}/pub/r.bin`, bytes);
      const refused = await child(`ftpes://127.0.0.1:${strict.port}/pub/r.bin`);
      assertEquals(refused.name, "FTP_PROTOCOL", refused.message);
      assertMatch(refused.message, /522 .*session reuse/);
      assertMatch(refused.message, /OpenSSL 3 \(libssl\.so\.3\) could not be loaded/);
    }),
});
