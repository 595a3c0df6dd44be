/**
 * FTPS jobs through a running imgserve against servers in their default TLS
 * setups (data connections must resume the control connection's session):
 * vsftpd in implicit mode and ProFTPD in explicit mode, a 6 MB PNG in and
 * a 6 MB result out of each, byte-exact, three jobs in a row.
 */
import { assert, assertEquals } from "../../helpers/assert.ts";
import { painted, png, type Rgba } from "../../helpers/images.ts";
import { serve, tempDir, type TestServer } from "../../helpers/server.ts";
import { makeTestCerts } from "../../fixtures/certs.ts";
import { PROFTPD, startProftpd } from "../../fixtures/ftp/proftpd.ts";
import { startVsftpd, VSFTPD } from "../../fixtures/ftp/vsftpd.ts";
import { randomBytes } from "../../fixtures/ftp/transfer.ts";
import { resizeJob } from "../../helpers/jobs.ts";
import { skipped } from "../../helpers/requirements.ts";

/** A 2000x1500 PNG of three noisy bands, about 6 MB (5 random bits per channel). */
async function noisyPng(): Promise<Uint8Array<ArrayBuffer>> {
  const tinted: Rgba[] = [[200, 40, 40, 255], [40, 200, 40, 255], [40, 40, 200, 255]];
  const noise = randomBytes(2000 * 1500 * 3);
  let n = 0;
  return await png(painted(2000, 1500, (x) => {
    const base = tinted[Math.floor(x / (2000 / 3))];
    const jitter = () => (noise[n++] & 31) - 16;
    return [base[0] + jitter(), base[1] + jitter(), base[2] + jitter(), 255];
  }));
}

/** Runs one resize job to its end; it must succeed. */
async function job(imgserve: TestServer, srcURL: string, dstURL: string): Promise<void> {
  const args = { width: 1990, height: 1500, mode: "stretch" };
  const reply = await imgserve.post(resizeJob(srcURL, dstURL, args));
  assertEquals(reply.status, 202, JSON.stringify(reply.json));
  const done = await imgserve.finished(reply.json.id as string);
  assertEquals(done.state, "done", JSON.stringify(done));
}

Deno.test({
  name: "ftps (vsftpd) and ftpes (ProFTPD) at their TLS defaults: 6 MB in and out of each, byte-exact, jobs in a row",
  ignore: skipped(VSFTPD) || skipped(PROFTPD),
  fn: async () => {
    await using dir = await tempDir();
    const certs = await makeTestCerts(dir.path);
    const source = await noisyPng();
    assert(source.byteLength > 5_000_000, `the source is only ${source.byteLength} bytes`);
    await Deno.writeFile(`${dir.path}/big.png`, source);
    await using vsftpd = await startVsftpd({ certs, implicit: true });
    await using proftpd = await startProftpd(certs);
    await using imgserve = await serve(["--ca-file", certs.caFile]);
    const vs = `ftps://${vsftpd.user}:${vsftpd.password}@127.0.0.1:${vsftpd.port}`;
    const pro = `ftpes://${proftpd.user}:${proftpd.password}@127.0.0.1:${proftpd.port}`;
    await Deno.writeFile(`${vsftpd.root}/home/big.png`, source);

    // vsftpd in: the result is the reference (the encoder is deterministic).
    await job(imgserve, `${vs}/big.png`, `file://${dir.path}/result.png`);
    const result = await Deno.readFile(`${dir.path}/result.png`);
    assert(result.byteLength > 5_000_000, `the result is only ${result.byteLength} bytes`);
    // ProFTPD out, from the local file: the same bytes arrive.
    await job(imgserve, `file://${dir.path}/big.png`, `${pro}/out/big.png`);
    assertEquals(await Deno.readFile(`${proftpd.root}/out/big.png`), result);
    // ProFTPD in (the source copied there) and vsftpd out in one job.
    await Deno.writeFile(`${proftpd.root}/big.png`, source);
    await job(imgserve, `${pro}/big.png`, `${vs}/out/big.png`);
    assertEquals(await Deno.readFile(`${vsftpd.root}/home/out/big.png`), result);
    for (const home of [`${vsftpd.root}/home/out`, `${proftpd.root}/out`]) {
      assertEquals([...Deno.readDirSync(home)].map((e) => e.name), ["big.png"]);
    }
  },
});
