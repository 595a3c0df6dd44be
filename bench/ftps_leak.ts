/**
 * `deno run -A --v8-flags=--expose-gc bench/ftps_leak.ts [N]`: N (default 1000) FTPS transfers
 * through OpenSSL against a local vsftpd in its default TLS setup (every
 * data connection resuming the control connection's session), plus
 * refused certificates and timeouts; prints open files and RSS before and
 * after, and the OpenSSL objects still held. Needs root and vsftpd, like
 * the tests.
 *
 * @module
 */
import { probeLeaks } from "../test/fixtures/ftp/tls_leak_probe.ts";

const transfers = Number(Deno.args[0] ?? 1000);
const report = await probeLeaks(transfers);
console.log(
  `${report.transfers} FTPS transfers in ${report.seconds} s: ` +
    `open files ${report.openFiles.before} -> ${report.openFiles.after}, ` +
    `RSS ${report.rssMiB.before} -> ${report.rssMiB.after} MiB (after each tenth: ${report.rssSteps.join(", ")}), ` +
    `OpenSSL objects held after: ${report.live.connections} connections, ${report.live.sessions} sessions`,
);
