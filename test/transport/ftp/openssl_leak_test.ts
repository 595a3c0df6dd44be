/**
 * The OpenSSL stream frees what it allocates on every path: transfers,
 * refused certificates and time limits firing mid-handshake. Measured in a
 * child process (test files share this one): open files return to where
 * they started and RSS stays flat. bench/ftps_leak.ts runs 1000.
 */
import { assert, assertEquals } from "../../helpers/assert.ts";
import { VSFTPD } from "../../fixtures/ftp/vsftpd.ts";
import type { LeakReport } from "../../fixtures/ftp/tls_leak_probe.ts";
import { openSsl } from "../../../src/transport/ftp/openssl_stream.ts";
import { skipped } from "../../helpers/requirements.ts";

Deno.test({
  name: "100 FTPS transfers, 10 refusals and 10 timeouts leave no OpenSSL object, no open file, and RSS flat",
  ignore: skipped(VSFTPD) || !openSsl(),
  fn: async () => {
    const probe = new URL("../../fixtures/ftp/tls_leak_probe.ts", import.meta.url).pathname;
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--v8-flags=--expose-gc", probe, "100"],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assertEquals(code, 0, new TextDecoder().decode(stderr));
    const report: LeakReport = JSON.parse(new TextDecoder().decode(stdout));
    console.log(JSON.stringify(report));
    assertEquals(report.live, { connections: 0, sessions: 0 });
    assertEquals(report.openFiles.after, report.openFiles.before);
    assert(report.rssMiB.after - report.rssMiB.before < 16, JSON.stringify(report.rssMiB));
  },
});
