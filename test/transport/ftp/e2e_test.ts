/**
 * Jobs through a running imgserve from and to real FTP servers on
 * 127.0.0.1: pyftpdlib for ftp: and ftpes:, vsftpd for implicit ftps:.
 */
import { assert, assertEquals } from "../../helpers/assert.ts";
import { assertImage, GREEN, painted, PLACEHOLDER_GREY, png, type Rgba, thirds } from "../../helpers/images.ts";
import { heldSource, serve, tempDir } from "../../helpers/server.ts";
import { tempCerts } from "../../fixtures/certs.ts";
import { startPyftpd, type TestFtpServer } from "../../fixtures/ftp/pyftpd.ts";
import { startVsftpd, VSFTPD } from "../../fixtures/ftp/vsftpd.ts";
import { randomBytes } from "../../fixtures/ftp/transfer.ts";
import { openSsl } from "../../../src/transport/ftp/openssl_stream.ts";
import { resizeJob } from "../../helpers/jobs.ts";
import { namesIn } from "../../helpers/files.ts";
import { skipped } from "../../helpers/requirements.ts";

/** URL of `path` on `server`, with the test user's %-encoded credentials when `login`. */
function urlOf(scheme: string, server: TestFtpServer, path: string, login = false): string {
  const auth = login ? `${encodeURIComponent(server.user)}:${encodeURIComponent(server.password)}@` : "";
  return `${scheme}://${auth}127.0.0.1:${server.port}/${path}`;
}

/** Every name in `folder`, sorted. */
Deno.test("ftp source with a %-encoded password → file destination: cover resize keeps the green centre", async () => {
  await using ftp = await startPyftpd();
  assert(/[ /@]/.test(ftp.password), "the test password needs characters that must be encoded");
  await Deno.mkdir(`${ftp.root}/in`);
  await Deno.writeFile(`${ftp.root}/in/thirds.png`, await png(thirds(300, 100)));
  await using dir = await tempDir();
  await using imgserve = await serve();
  const reply = await imgserve.post(
    resizeJob(urlOf("ftp", ftp, "in/thirds.png", true), `file://${dir.path}/out.png`, { width: 90, height: 60 }),
  );
  assertEquals(reply.status, 202, JSON.stringify(reply.json));
  assertEquals((await imgserve.finished(reply.json.id as string)).state, "done");
  await assertImage(await Deno.readFile(`${dir.path}/out.png`), { width: 90, height: 60, centre: GREEN });
});

Deno.test("file source → ftp destination: a missing folder is created, tags fill the name, no temporary left", async () => {
  await using ftp = await startPyftpd();
  await using dir = await tempDir();
  await Deno.writeFile(`${dir.path}/Ex.png`, await png(thirds(300, 100)));
  await using imgserve = await serve();
  const reply = await imgserve.post(
    resizeJob(
      `file://${dir.path}/Ex.png`,
      urlOf("ftp", ftp, "thumbs/new/{$width}x{$height}-{$basename}.{$ext}", true),
      { width: 90, height: 60 },
    ),
  );
  assertEquals(reply.status, 202, JSON.stringify(reply.json));
  assert(String(reply.json.dstURL).endsWith("/thumbs/new/90x60-Ex.png"), String(reply.json.dstURL));
  assertEquals((await imgserve.finished(reply.json.id as string)).state, "done");
  await assertImage(await Deno.readFile(`${ftp.root}/thumbs/new/90x60-Ex.png`), {
    width: 90,
    height: 60,
    centre: GREEN,
  });
  assertEquals(namesIn(`${ftp.root}/thumbs/new`), ["90x60-Ex.png"]);
});

Deno.test("ftp destination: the grey placeholder is on the FTP server at the reply, then the real image replaces it", async () => {
  const source = await png(thirds(300, 100));
  await using src = heldSource({ "/pics/Held.png": source });
  await using ftp = await startPyftpd();
  await using imgserve = await serve();
  try {
    const reply = await imgserve.post(
      resizeJob(`${src.base}/pics/Held.png`, urlOf("ftp", ftp, "out/{$basename}.{$ext}"), { width: 90, height: 60 }),
    );
    assertEquals(reply.status, 202, JSON.stringify(reply.json));
    const path = `${ftp.root}/out/Held.png`;
    await assertImage(await Deno.readFile(path), { width: 90, height: 60, centre: PLACEHOLDER_GREY, tolerance: 0 });
    const pending = await (await fetch(`${imgserve.base}/jobs/${reply.json.id}`)).json();
    assert(pending.state === "queued" || pending.state === "running", pending.state);
    src.release();
    assertEquals((await imgserve.finished(reply.json.id as string)).state, "done");
    await assertImage(await Deno.readFile(path), { width: 90, height: 60, centre: GREEN });
    assertEquals(namesIn(`${ftp.root}/out`), ["Held.png"]);
  } finally {
    src.release();
  }
});

Deno.test("ftpes source → ftpes destination, anonymous, trusted through --ca-file", async () => {
  await using certs = await tempCerts();
  await using ftp = await startPyftpd({ certs });
  await Deno.writeFile(`${ftp.root}/thirds.png`, await png(thirds(300, 100)));
  await using imgserve = await serve(["--ca-file", certs.caFile]);
  const reply = await imgserve.post(
    resizeJob(urlOf("ftpes", ftp, "thirds.png"), urlOf("ftpes", ftp, "made/here/{$basename}-{$width}.{$ext}"), {
      width: 90,
      height: 60,
    }),
  );
  assertEquals(reply.status, 202, JSON.stringify(reply.json));
  assertEquals(reply.json.dstURL, urlOf("ftpes", ftp, "made/here/thirds-90.png"));
  assertEquals((await imgserve.finished(reply.json.id as string)).state, "done");
  await assertImage(await Deno.readFile(`${ftp.root}/made/here/thirds-90.png`), {
    width: 90,
    height: 60,
    centre: GREEN,
  });
  assertEquals(namesIn(`${ftp.root}/made/here`), ["thirds-90.png"]);
});

Deno.test({
  name: "ftps (implicit, vsftpd): source → file destination, and file source → ftps destination",
  ignore: skipped(VSFTPD),
  fn: async () => {
    await using certs = await tempCerts();
    await using ftp = await startVsftpd({ certs, implicit: true });
    await Deno.writeFile(`${ftp.root}/pub/thirds.png`, await png(thirds(300, 100)));
    await using dir = await tempDir();
    await Deno.writeFile(`${dir.path}/local.png`, await png(thirds(300, 100)));
    await using imgserve = await serve(["--ca-file", certs.caFile]);

    const down = await imgserve.post(
      resizeJob(urlOf("ftps", ftp, "pub/thirds.png"), `file://${dir.path}/from-ftps.png`, { width: 90, height: 60 }),
    );
    assertEquals(down.status, 202, JSON.stringify(down.json));
    assertEquals((await imgserve.finished(down.json.id as string)).state, "done");
    await assertImage(await Deno.readFile(`${dir.path}/from-ftps.png`), { width: 90, height: 60, centre: GREEN });

    const up = await imgserve.post(
      resizeJob(`file://${dir.path}/local.png`, urlOf("ftps", ftp, "out/new/{$basename}.{$ext}", true), {
        width: 90,
        height: 60,
      }),
    );
    assertEquals(up.status, 202, JSON.stringify(up.json));
    assertEquals((await imgserve.finished(up.json.id as string)).state, "done");
    await assertImage(await Deno.readFile(`${ftp.root}/home/out/new/local.png`), {
      width: 90,
      height: 60,
      centre: GREEN,
    });
    assertEquals(namesIn(`${ftp.root}/home/out/new`), ["local.png"]);
  },
});

Deno.test("ftp errors reach the client: a missing source is 404/202, a wrong password 502/701", async () => {
  await using ftp = await startPyftpd();
  await Deno.writeFile(`${ftp.root}/there.png`, await png(thirds(30, 10)));
  await using dir = await tempDir();
  await using imgserve = await serve();

  const missing = await imgserve.post(
    resizeJob(urlOf("ftp", ftp, "nope.png", true), `file://${dir.path}/a.png`, { width: 10 }),
  );
  assertEquals([missing.status, missing.json.code], [404, 202], JSON.stringify(missing.json));
  assert(/550/.test(String(missing.json.error)), String(missing.json.error));

  const denied = await imgserve.post(
    resizeJob(`ftp://${ftp.user}:wrong@127.0.0.1:${ftp.port}/there.png`, `file://${dir.path}/b.png`, { width: 10 }),
  );
  assertEquals([denied.status, denied.json.code], [502, 701], JSON.stringify(denied.json));
  assert(/530/.test(String(denied.json.error)), String(denied.json.error));
  assert(!String(denied.json.error).includes("wrong"), "the password must not be echoed");

  const deniedDst = await imgserve.post(
    resizeJob(urlOf("ftp", ftp, "there.png"), `ftp://${ftp.user}:wrong@127.0.0.1:${ftp.port}/out.png`, { width: 10 }),
  );
  assertEquals([deniedDst.status, deniedDst.json.code], [502, 701], JSON.stringify(deniedDst.json));
  assertEquals(namesIn(ftp.root), ["there.png"]);
  assertEquals(namesIn(dir.path), []);
});

Deno.test("ftpes without --ca-file is refused for an untrusted certificate, and nothing goes in clear", async () => {
  await using certs = await tempCerts();
  await using ftp = await startPyftpd({ certs });
  await Deno.writeFile(`${ftp.root}/thirds.png`, await png(thirds(300, 100)));
  await using dir = await tempDir();
  await Deno.writeFile(`${dir.path}/local.png`, await png(thirds(300, 100)));
  await using imgserve = await serve();

  // OpenSSL's own words reach the job's error (Deno's TLS, the fallback, says UnknownIssuer).
  const refusal = openSsl() ? /certificate verify failed.*unable to get local issuer certificate/ : /UnknownIssuer/;
  const read = await imgserve.post(
    resizeJob(urlOf("ftpes", ftp, "thirds.png", true), `file://${dir.path}/out.png`, { width: 90, height: 60 }),
  );
  assertEquals([read.status, read.json.code], [502, 207], JSON.stringify(read.json));
  assert(refusal.test(String(read.json.error)), String(read.json.error));

  const write = await imgserve.post(
    resizeJob(`file://${dir.path}/local.png`, urlOf("ftpes", ftp, "out.png", true), { width: 90, height: 60 }),
  );
  assertEquals([write.status, write.json.code], [502, 303], JSON.stringify(write.json));
  assert(refusal.test(String(write.json.error)), String(write.json.error));

  assertEquals(namesIn(ftp.root), ["thirds.png"]);
  assertEquals(namesIn(dir.path), ["local.png"]);
  // pyftpdlib logs every command it receives: only AUTH TLS came, no login, no transfer.
  const log = await Deno.readTextFile(`${ftp.root}/../log`);
  assert(/<- AUTH TLS/.test(log), log);
  assert(!/<- (USER|PASS|STOR|RETR)/.test(log), log);
});

Deno.test("a 6 MB noisy PNG from ftp is downloaded whole and resized", async () => {
  const tinted: Rgba[] = [[200, 40, 40, 255], [40, 200, 40, 255], [40, 40, 200, 255]];
  const noise = randomBytes(2000 * 1500 * 3);
  let n = 0;
  // 5 random bits per colour channel keep the PNG at about 6 MB.
  const image = painted(2000, 1500, (x) => {
    const base = tinted[Math.floor(x / (2000 / 3))];
    const jitter = () => (noise[n++] & 31) - 16;
    return [base[0] + jitter(), base[1] + jitter(), base[2] + jitter(), 255];
  });
  const bytes = await png(image);
  assert(bytes.byteLength > 5_000_000, `the source is only ${bytes.byteLength} bytes`);
  await using ftp = await startPyftpd();
  await Deno.writeFile(`${ftp.root}/large.png`, bytes);
  await using dir = await tempDir();
  await using imgserve = await serve();
  const reply = await imgserve.post(
    resizeJob(urlOf("ftp", ftp, "large.png"), `file://${dir.path}/large-{$width}x{$height}.{$ext}`, { width: 400 }),
  );
  assertEquals(reply.status, 202, JSON.stringify(reply.json));
  const done = await imgserve.finished(reply.json.id as string);
  assertEquals(done.state, "done", JSON.stringify(done));
  await assertImage(await Deno.readFile(`${dir.path}/large-400x300.png`), {
    width: 400,
    height: 300,
    centre: tinted[1],
  });
});
