/**
 * No job destroys what it was given: in-place jobs are refused before
 * anything is written, a file a placeholder replaced comes back when the
 * job fails and goes when it is done, folders are never destinations, and
 * a retry never shrinks this job's own placeholder.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { GREEN, isImage, jpeg, painted, png, thirds } from "../helpers/images.ts";
import { httpServer, serve, tempDir } from "../helpers/server.ts";
import { tempCerts } from "../fixtures/certs.ts";
import { startPyftpd } from "../fixtures/ftp/pyftpd.ts";
import { startVsftpd, VSFTPD } from "../fixtures/ftp/vsftpd.ts";
import { randomBytes } from "../fixtures/ftp/transfer.ts";
import { resizeJob } from "../helpers/jobs.ts";
import { namesIn } from "../helpers/files.ts";
import { skipped } from "../helpers/requirements.ts";

/** Every name in `folder` (hidden ones too), sorted. */
Deno.test("in-place file:// jobs (same path, tags, a symlink, a hard link) are refused with 115 and the photo stays", async () => {
  await using dir = await tempDir();
  const photo = await jpeg(thirds(300, 200));
  await Deno.writeFile(`${dir.path}/w.jpg`, photo);
  await Deno.symlink(`${dir.path}/w.jpg`, `${dir.path}/link.jpg`);
  await Deno.link(`${dir.path}/w.jpg`, `${dir.path}/hard.jpg`);
  const before = namesIn(dir.path);
  await using imgserve = await serve();
  for (const dst of ["w.jpg", "{$basename}.{$ext}", "./sub/../w.jpg", "link.jpg", "hard.jpg"]) {
    const reply = await imgserve.post(
      resizeJob(`file://${dir.path}/w.jpg`, `file://${dir.path}/${dst}`, { width: 30, height: 20 }),
    );
    assertEquals([reply.status, reply.json.code], [409, 115], `${dst}: ${JSON.stringify(reply.json)}`);
    assert(String(reply.json.error).includes("in place"), String(reply.json.error));
  }
  // The other way round: the source is the link, the destination its target.
  for (const src of ["link.jpg", "hard.jpg"]) {
    const reply = await imgserve.post(
      resizeJob(`file://${dir.path}/${src}`, `file://${dir.path}/w.jpg`, { width: 30, height: 20 }),
    );
    assertEquals([reply.status, reply.json.code], [409, 115], `${src}: ${JSON.stringify(reply.json)}`);
  }
  assertEquals(await Deno.readFile(`${dir.path}/w.jpg`), photo);
  assertEquals((await Deno.lstat(`${dir.path}/link.jpg`)).isSymlink, true);
  assertEquals(namesIn(dir.path), before);
});

Deno.test("a destination that is a --file-root or an existing folder is refused with 116 before anything is written", async () => {
  await using dir = await tempDir();
  const root = `${dir.path}/root`;
  await Deno.mkdir(`${root}/sub`, { recursive: true });
  await Deno.writeFile(`${root}/a.png`, await png(thirds(60, 40)));
  await using imgserve = await serve(["--file-root", root, "--allow-private-networks"], { open: false });
  const parentBefore = namesIn(dir.path);
  const rootBefore = namesIn(root);
  for (const dst of [`file://${root}`, `file://${root}/sub`]) {
    const reply = await imgserve.post(resizeJob(`file://${root}/a.png`, dst, { width: 30 }));
    assertEquals([reply.status, reply.json.code], [400, 116], `${dst}: ${JSON.stringify(reply.json)}`);
  }
  assertEquals(namesIn(dir.path), parentBefore);
  assertEquals(namesIn(root), rootBefore);
  assertEquals(namesIn(`${root}/sub`), []);
});

Deno.test("a file:// destination's earlier file comes back when the job fails and is gone when it is done", async () => {
  await using dir = await tempDir();
  const good = await png(thirds(90, 60));
  await Deno.writeFile(`${dir.path}/good.png`, good);
  await Deno.writeFile(`${dir.path}/bad.png`, good.slice(0, 120)); // a header that promises more than there is
  const earlier = randomBytes(5000);
  await Deno.mkdir(`${dir.path}/out`);
  await Deno.writeFile(`${dir.path}/out/failing.png`, earlier);
  await Deno.writeFile(`${dir.path}/out/working.png`, earlier);
  await using imgserve = await serve();
  const job = (src: string, dst: string) =>
    imgserve.post(resizeJob(`file://${dir.path}/${src}`, `file://${dir.path}/out/${dst}`, { width: 30, height: 20 }));
  const failing = await job("bad.png", "failing.png");
  const working = await job("good.png", "working.png");
  assertEquals([failing.status, working.status], [202, 202]);
  const failed = await imgserve.finished(failing.json.id as string);
  // A cut PNG: damaged, 606.
  assertEquals([failed.state, failed.code], ["failed", 606]);
  assertEquals(await Deno.readFile(`${dir.path}/out/failing.png`), earlier);
  assertEquals((await imgserve.finished(working.json.id as string)).state, "done");
  assert(await isImage(await Deno.readFile(`${dir.path}/out/working.png`), { width: 30, height: 20, centre: GREEN }));
  assertEquals(namesIn(`${dir.path}/out`), ["failing.png", "working.png"]);
});

Deno.test("a full destination file system: the job fails with 301 and the earlier file is back byte for byte", async () => {
  await using dir = await tempDir();
  const mount = `${dir.path}/small`;
  await Deno.mkdir(mount);
  const mounted = await new Deno.Command("mount", { args: ["-t", "tmpfs", "-o", "size=256k", "tmpfs", mount] })
    .output().catch(() => undefined);
  if (!mounted?.success) {
    console.log("skipped: this test needs to mount a tmpfs (root and mount permission); it could not");
    return;
  }
  try {
    // Noise does not compress: the result (about 1 MB) cannot fit, the placeholder (a few KiB) can.
    const noise = painted(600, 600, () => [Math.random() * 256 | 0, Math.random() * 256 | 0, 90, 255]);
    await Deno.writeFile(`${dir.path}/noise.png`, await png(noise));
    const earlier = randomBytes(100 * 1024);
    await Deno.writeFile(`${mount}/photo.png`, earlier);
    await using imgserve = await serve();
    const reply = await imgserve.post(
      resizeJob(`file://${dir.path}/noise.png`, `file://${mount}/photo.png`, { width: 590, height: 590 }),
    );
    assertEquals(reply.status, 202, JSON.stringify(reply.json));
    const job = await imgserve.finished(reply.json.id as string);
    assertEquals([job.state, job.code], ["failed", 301], JSON.stringify(job));
    assertEquals(await Deno.readFile(`${mount}/photo.png`), earlier);
    assertEquals(namesIn(mount), ["photo.png"]);
  } finally {
    await new Deno.Command("umount", { args: [mount] }).output();
  }
});

/**
 * An HTTP site holding one file at every path: GET answers it, PUT replaces
 * it, except the second PUT, which gets a 500. Counts the PUTs.
 */
function oneFileSite(photo: Uint8Array<ArrayBuffer>) {
  let stored = photo;
  let puts = 0;
  const site = httpServer(async (req) => {
    if (req.method === "GET") return new Response(stored.slice());
    puts++;
    const body = new Uint8Array(await req.arrayBuffer());
    if (puts === 2) return new Response("busy", { status: 500 });
    stored = body;
    return new Response(null, { status: 204 });
  });
  return {
    base: site.base,
    get stored() {
      return stored;
    },
    get puts() {
      return puts;
    },
    [Symbol.asyncDispose]: () => site[Symbol.asyncDispose](),
  };
}

Deno.test("in-place over HTTP (GET and PUT on one URL) is refused up front, even with a failing upload ahead", async () => {
  const photo = await png(thirds(120, 80));
  await using site = oneFileSite(photo);
  await using imgserve = await serve(["--retry-base-ms", "20"]);
  for (const dst of [`${site.base}/photos/a.png`, `${site.base}/photos/%61.png#x`]) {
    const reply = await imgserve.post(resizeJob(`${site.base}/photos/a.png`, dst, { width: 60, height: 40 }));
    assertEquals([reply.status, reply.json.code], [409, 115], JSON.stringify(reply.json));
  }
  assertEquals(site.puts, 0);
  assertEquals(site.stored, photo);
});

Deno.test("a retry that reads back this job's own placeholder fails with 214 instead of shrinking it", async () => {
  // Two URLs, one file: /photos/a.png is read, /dav/a.png is written; nothing in the URLs says so.
  const photo = await png(thirds(120, 80));
  await using site = oneFileSite(photo);
  await using imgserve = await serve(["--retry-base-ms", "20"]);
  const reply = await imgserve.post(
    resizeJob(`${site.base}/photos/a.png`, `${site.base}/dav/a.png`, { width: 60, height: 40 }),
  );
  assertEquals(reply.status, 202);
  const job = await imgserve.finished(reply.json.id as string);
  assertEquals([job.state, job.code, job.attempts], ["failed", 214, 2], JSON.stringify(job));
  // Placeholder, then the result that got the 500; no third upload of a shrunken placeholder.
  assertEquals(site.puts, 2);
});

Deno.test("ftp: in-place and folder destinations are refused; an existing FTP destination comes back on failure and goes on success", async () => {
  await using ftp = await startPyftpd();
  const photo = await png(thirds(120, 80));
  await Deno.writeFile(`${ftp.root}/a.png`, photo);
  const earlier = randomBytes(3000);
  await Deno.writeFile(`${ftp.root}/failing.png`, earlier);
  await Deno.writeFile(`${ftp.root}/working.png`, earlier);
  await using dir = await tempDir();
  await Deno.writeFile(`${dir.path}/bad.png`, photo.slice(0, 120));
  const base = `ftp://127.0.0.1:${ftp.port}`;
  await using imgserve = await serve(["--retry-base-ms", "20"]);
  for (const dst of [`${base}/a.png`, `ftp://anonymous@127.0.0.1:${ftp.port}/%61.png`]) {
    const refused = await imgserve.post(resizeJob(`${base}/a.png`, dst, { width: 60, height: 40 }));
    assertEquals([refused.status, refused.json.code], [409, 115], JSON.stringify(refused.json));
  }
  assertEquals(await Deno.readFile(`${ftp.root}/a.png`), photo);
  await Deno.mkdir(`${ftp.root}/folder.png`);
  const folder = await imgserve.post(resizeJob(`${base}/a.png`, `${base}/folder.png`, { width: 60, height: 40 }));
  assertEquals([folder.status, folder.json.code], [400, 116], JSON.stringify(folder.json));
  assertEquals(namesIn(`${ftp.root}/folder.png`), []);
  await Deno.remove(`${ftp.root}/folder.png`);

  const failing = await imgserve.post(
    resizeJob(`file://${dir.path}/bad.png`, `${base}/failing.png`, { width: 60, height: 40 }),
  );
  // A cut PNG: damaged, 606.
  assertEquals((await imgserve.finished(failing.json.id as string)).code, 606);
  assertEquals(await Deno.readFile(`${ftp.root}/failing.png`), earlier);

  const working = await imgserve.post(resizeJob(`${base}/a.png`, `${base}/working.png`, { width: 60, height: 40 }));
  assertEquals((await imgserve.finished(working.json.id as string)).state, "done");
  assert(await isImage(await Deno.readFile(`${ftp.root}/working.png`), { width: 60, height: 40, centre: GREEN }));
  assertEquals(namesIn(ftp.root), ["a.png", "failing.png", "working.png"]);
});

Deno.test({
  name: "ftps (vsftpd): in-place is refused; an existing file comes back on failure and goes on success",
  ignore: skipped(VSFTPD),
  fn: async () => {
    await using certs = await tempCerts();
    await using ftp = await startVsftpd({ certs, implicit: true, requireReuse: false });
    const home = `${ftp.root}/home`;
    const photo = await png(thirds(120, 80));
    const earlier = randomBytes(3000);
    for (const [name, bytes] of [["a.png", photo], ["failing.png", earlier], ["working.png", earlier]] as const) {
      await Deno.writeFile(`${home}/${name}`, bytes);
    }
    await using dir = await tempDir();
    await Deno.writeFile(`${dir.path}/bad.png`, photo.slice(0, 120));
    const base = `ftps://${encodeURIComponent(ftp.user)}:${encodeURIComponent(ftp.password)}@127.0.0.1:${ftp.port}`;
    await using imgserve = await serve(["--ca-file", certs.caFile]);
    const job = (src: string, dst: string) => imgserve.post(resizeJob(src, dst, { width: 60, height: 40 }));
    const refused = await job(`${base}/a.png`, `${base}/a.png`);
    assertEquals([refused.status, refused.json.code], [409, 115], JSON.stringify(refused.json));
    const failing = await job(`file://${dir.path}/bad.png`, `${base}/failing.png`);
    // A cut PNG: damaged, 606.
    assertEquals((await imgserve.finished(failing.json.id as string)).code, 606);
    assertEquals(await Deno.readFile(`${home}/failing.png`), earlier);
    const working = await job(`${base}/a.png`, `${base}/working.png`);
    assertEquals((await imgserve.finished(working.json.id as string)).state, "done");
    assert(await isImage(await Deno.readFile(`${home}/working.png`), { width: 60, height: 40, centre: GREEN }));
    assertEquals(await Deno.readFile(`${home}/a.png`), photo);
    assertEquals(namesIn(home), ["a.png", "failing.png", "working.png"]);
  },
});
