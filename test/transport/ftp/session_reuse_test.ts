/**
 * Servers that demand TLS session reuse on data connections (vsftpd and
 * ProFTPD in their default setups): several transfers on one control
 * connection, each data connection resuming, on TLS 1.3 and TLS 1.2, as
 * the servers' own logs tell.
 */
import { assert, assertEquals } from "../../helpers/assert.ts";
import { type TestCerts, withCerts } from "../../fixtures/certs.ts";
import { PROFTPD, proftpdTlsLog, startProftpd } from "../../fixtures/ftp/proftpd.ts";
import type { TestFtpServer } from "../../fixtures/ftp/pyftpd.ts";
import { startVsftpd, VSFTPD, vsftpdLog } from "../../fixtures/ftp/vsftpd.ts";
import { download, optionsFor, randomBytes } from "../../fixtures/ftp/transfer.ts";
import { FtpClient, type FtpSecurity } from "../../../src/transport/ftp/mod.ts";
import { skipped } from "../../helpers/requirements.ts";

/**
 * Three uploads on one logged-in session (the second and third data
 * connections must resume too), then one file read back in a session of
 * its own, as jobs do; `home` is the login folder on disk.
 */
async function transfers(server: TestFtpServer, home: string, security: FtpSecurity, certs: TestCerts): Promise<void> {
  const endpoint = { hostname: "127.0.0.1", port: server.port, security, user: server.user, password: server.password };
  const options = optionsFor(certs.caPem);
  const files = [randomBytes(70_000), randomBytes(1), randomBytes(300_000)];
  const client = await FtpClient.connect(endpoint, "destination", options);
  try {
    for (const [i, bytes] of files.entries()) await client.upload(`f${i}.bin`, bytes);
  } finally {
    await client.quit();
  }
  const scheme = security === "implicit" ? "ftps" : "ftpes";
  const login = `${scheme}://${server.user}:${server.password}@127.0.0.1:${server.port}`;
  assertEquals(await download(`${login}/f2.bin`, options), files[2]);
  for (const [i, bytes] of files.entries()) assertEquals(await Deno.readFile(`${home}/f${i}.bin`), bytes);
}

/** Two control connections (new sessions) and four data connections (resumed). */
function assertResumed(handshakes: string[], resumed: (line: string) => boolean, version: string): void {
  const all = handshakes.join("\n");
  assertEquals(handshakes.length, 6, all);
  assertEquals(handshakes.filter(resumed).length, 4, all);
  for (const line of handshakes) assert(line.includes(version), line);
}

const vsftpdCases = [
  { implicit: true, tls12: false, version: "TLSv1.3" },
  { implicit: false, tls12: false, version: "TLSv1.3" },
  { implicit: true, tls12: true, version: "TLSv1.2" },
  { implicit: false, tls12: true, version: "TLSv1.2" },
];

for (const { implicit, tls12, version } of vsftpdCases) {
  const scheme = implicit ? "ftps" : "ftpes";
  Deno.test({
    name: `${scheme}: vsftpd at its TLS defaults (reuse required), ${version}: every data connection resumes`,
    ignore: skipped(VSFTPD),
    fn: () =>
      withCerts(async (certs) => {
        await using server = await startVsftpd({ certs, implicit, tls12 });
        await transfers(server, `${server.root}/home`, implicit ? "implicit" : "explicit", certs);
        const handshakes = (await vsftpdLog(server)).split("\n").filter((line) => line.includes("SSL version:"));
        assertResumed(handshakes, (line) => line.includes(", reused,"), `SSL version: ${version},`);
      }),
  });
}

for (const { tls12, version } of [{ tls12: false, version: "TLSv1.3" }, { tls12: true, version: "TLSv1.2" }]) {
  Deno.test({
    name: `ftpes: ProFTPD with mod_tls at its defaults (reuse required), ${version}: every data connection resumes`,
    ignore: skipped(PROFTPD),
    fn: () =>
      withCerts(async (certs) => {
        await using server = await startProftpd(certs, { tls12 });
        await transfers(server, server.root, "explicit", certs);
        // mod_tls logs the version of a session's first data connection
        // only, and "reused" for each.
        const log = (await proftpdTlsLog(server)).split("\n");
        const all = log.join("\n");
        assertEquals(log.filter((line) => line.includes(`${version} connection accepted`)).length, 2, all);
        assertEquals(
          log.filter((line) => line.includes("client reused TLS session for data connection")).length,
          4,
          all,
        );
        assert(!/did not reuse|TLSv1\.[0-2] |TLSv1\.3 /.test(all.replaceAll(`${version} `, "")), all);
      }),
  });
}
