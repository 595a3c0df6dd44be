import { assert, assertEquals } from "./helpers/assert.ts";
import {
  assertImage,
  BLUE,
  decode,
  GREEN,
  jpeg,
  near,
  painted,
  pixel,
  PLACEHOLDER_GREY,
  png,
  RED,
  thirds,
  withOrientation,
} from "./helpers/images.ts";
import { heldSource, httpServer, serve, tempDir, validatingApp } from "./helpers/server.ts";
import { freePort } from "./helpers/ports.ts";
import { readHeader } from "../src/image/header.ts";
import { postJob, rasterizeJob, resizeJob } from "./helpers/jobs.ts";
import { DELIBERATE_CRASH, holdBackStderr } from "./helpers/stderr.ts";

const TRANSPARENT = [0, 0, 0, 0] as [number, number, number, number];
const WHITE = [255, 255, 255, 255] as [number, number, number, number];

Deno.test("the placeholder of the final size is in place at the reply, and the real image replaces it", async () => {
  const source = await png(thirds(300, 100));
  await using src = heldSource({ "/pics/Ex.png": source });
  await using dir = await tempDir();
  await using imgserve = await serve();
  const reply = await imgserve.post(
    resizeJob(`${src.base}/pics/Ex.png`, `file://${dir.path}/thumbs/{$width}x{$height}-{$basename}.{$ext}`, {
      width: 90,
      height: 60,
    }),
  );
  assertEquals(reply.status, 202);
  assertEquals(reply.json.dstURL, `file://${dir.path}/thumbs/90x60-Ex.png`);
  assertEquals(reply.headers.get("location"), `/jobs/${reply.json.id}`);
  const path = `${dir.path}/thumbs/90x60-Ex.png`;
  await assertImage(await Deno.readFile(path), { width: 90, height: 60, centre: PLACEHOLDER_GREY, tolerance: 0 });
  const pending = await (await fetch(`${imgserve.base}/jobs/${reply.json.id}`)).json();
  assert(pending.state === "queued" || pending.state === "running", pending.state);
  src.release();
  const done = await imgserve.finished(reply.json.id as string);
  assertEquals(done.state, "done");
  await assertImage(await Deno.readFile(path), { width: 90, height: 60, centre: GREEN });
  assertEquals([...Deno.readDirSync(`${dir.path}/thumbs`)].map((e) => e.name), ["90x60-Ex.png"]);
});

Deno.test("cover crops the centre band: a red|green|blue source becomes all green", async () => {
  await using dir = await tempDir();
  await Deno.writeFile(`${dir.path}/thirds.png`, await png(thirds(300, 100)));
  await using imgserve = await serve();
  const reply = await imgserve.post(
    resizeJob(`file://${dir.path}/thirds.png`, `file://${dir.path}/out.png`, { width: 50, height: 50 }),
  );
  assertEquals((await imgserve.finished(reply.json.id as string)).state, "done");
  const out = await decode(await Deno.readFile(`${dir.path}/out.png`));
  assertEquals([out.width, out.height], [50, 50]);
  for (const x of [2, 25, 47]) assert(near(pixel(out, x, 25), GREEN), `x=${x} is ${pixel(out, x, 25)}`);
});

Deno.test("one side given keeps the aspect ratio and the whole picture", async () => {
  await using dir = await tempDir();
  await Deno.writeFile(`${dir.path}/thirds.jpg`, await jpeg(thirds(300, 100)));
  await using imgserve = await serve();
  const reply = await imgserve.post(
    resizeJob(`file://${dir.path}/thirds.jpg`, `file://${dir.path}/out.{$ext}`, { width: 150 }),
  );
  assertEquals((await imgserve.finished(reply.json.id as string)).state, "done");
  const bytes = await Deno.readFile(`${dir.path}/out.jpg`);
  assertEquals(readHeader(bytes, true).format, "jpeg");
  const out = await decode(bytes);
  assertEquals([out.width, out.height], [150, 50]);
  assert(near(pixel(out, 5, 25), RED) && near(pixel(out, 75, 25), GREEN) && near(pixel(out, 145, 25), BLUE));
});

Deno.test("a transparent PNG written as JPEG is flattened on white", async () => {
  await using dir = await tempDir();
  await Deno.writeFile(`${dir.path}/a.png`, await png(painted(100, 100, (x) => x < 50 ? TRANSPARENT : BLUE)));
  await using imgserve = await serve();
  const reply = await imgserve.post(
    resizeJob(`file://${dir.path}/a.png`, `file://${dir.path}/a.jpg`, {
      width: 40,
      height: 40,
      format: "jpeg",
      quality: 90,
    }),
  );
  assertEquals((await imgserve.finished(reply.json.id as string)).state, "done");
  const out = await decode(await Deno.readFile(`${dir.path}/a.jpg`));
  assert(near(pixel(out, 5, 20), WHITE, 20), `left is ${pixel(out, 5, 20)}`);
  assert(near(pixel(out, 35, 20), BLUE), `right is ${pixel(out, 35, 20)}`);
});

Deno.test("EXIF orientation is applied: a 90° rotated JPEG comes out upright", async () => {
  await using dir = await tempDir();
  // Stored 60x40, top red and bottom blue; orientation 6 means "rotate 90° clockwise to view".
  const stored = await jpeg(painted(60, 40, (_, y) => y < 20 ? RED : BLUE));
  await Deno.writeFile(`${dir.path}/r.jpg`, withOrientation(stored, 6));
  await using imgserve = await serve();
  const reply = await imgserve.post(
    resizeJob(`file://${dir.path}/r.jpg`, `file://${dir.path}/r-out.png`, { width: 20, format: "png" }),
  );
  assertEquals(reply.status, 202);
  assertEquals((await imgserve.finished(reply.json.id as string)).state, "done");
  const out = await decode(await Deno.readFile(`${dir.path}/r-out.png`));
  assertEquals([out.width, out.height], [20, 30]);
  assert(near(pixel(out, 2, 15), BLUE), `left is ${pixel(out, 2, 15)}`);
  assert(near(pixel(out, 17, 15), RED), `right is ${pixel(out, 17, 15)}`);
});

function darkPixels(image: ImageData, box: { x0: number; x1: number; y0: number; y1: number }): number {
  let n = 0;
  for (let y = box.y0; y < box.y1; y++) {
    for (let x = box.x0; x < box.x1; x++) if (pixel(image, x, y)[0] < 100) n++;
  }
  return n;
}

Deno.test("SVG text is drawn with the system's fonts, sized by the requested width", async () => {
  await using dir = await tempDir();
  const svg = (text: string) =>
    `<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100" viewBox="0 0 200 100">` +
    `<rect width="200" height="100" fill="white"/>` +
    `<text x="10" y="70" font-family="sans-serif" font-size="60" fill="black">${text}</text></svg>`;
  await Deno.writeTextFile(`${dir.path}/text.svg`, svg("Hello"));
  await Deno.writeTextFile(`${dir.path}/empty.svg`, svg(""));
  await using imgserve = await serve();
  const ids = [];
  for (const name of ["text", "empty"]) {
    const reply = await imgserve.post(
      rasterizeJob(`file://${dir.path}/${name}.svg`, `file://${dir.path}/{$basename}.png`, { width: 400 }),
    );
    assertEquals(reply.status, 202);
    ids.push(reply.json.id as string);
  }
  for (const id of ids) assertEquals((await imgserve.finished(id)).state, "done");
  const text = await decode(await Deno.readFile(`${dir.path}/text.png`));
  const empty = await decode(await Deno.readFile(`${dir.path}/empty.png`));
  assertEquals([text.width, text.height], [400, 200]);
  const box = { x0: 0, x1: 400, y0: 0, y1: 200 };
  assertEquals(darkPixels(empty, box), 0);
  // Glyphs of 120 px type cover thousands of pixels.
  assert(darkPixels(text, box) > 3000, `only ${darkPixels(text, box)} dark pixels`);
});

Deno.test("both sides given to rasterize: exact size, drawing centred as a browser would", async () => {
  await using dir = await tempDir();
  await Deno.writeTextFile(
    `${dir.path}/sq.svg`,
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="10" height="10" fill="red"/></svg>`,
  );
  await using imgserve = await serve();
  const reply = await imgserve.post(
    rasterizeJob(`file://${dir.path}/sq.svg`, `file://${dir.path}/sq.jpg`, { width: 90, height: 30, format: "jpeg" }),
  );
  assertEquals((await imgserve.finished(reply.json.id as string)).state, "done");
  const out = await decode(await Deno.readFile(`${dir.path}/sq.jpg`));
  assertEquals([out.width, out.height], [90, 30]);
  assert(near(pixel(out, 45, 15), RED) && near(pixel(out, 5, 15), WHITE, 20), `${pixel(out, 5, 15)}`);
});

Deno.test("HTTP sources follow redirects", async () => {
  const source = await png(thirds(30, 30));
  await using src = httpServer((req) =>
    new URL(req.url).pathname === "/old.png"
      ? Response.redirect(new URL("/new.png", req.url), 302)
      : new Response(source)
  );
  await using dir = await tempDir();
  await using imgserve = await serve();
  const reply = await imgserve.post(
    resizeJob(`${src.base}/old.png`, `file://${dir.path}/{$basename}.png`, { width: 10 }),
  );
  assertEquals(reply.status, 202);
  assertEquals((await imgserve.finished(reply.json.id as string)).state, "done");
  assertEquals((await decode(await Deno.readFile(`${dir.path}/old.png`))).width, 10);
});

Deno.test("a body that fails validation answers with its status and code before any worker or journal is involved", async () => {
  const app = validatingApp();
  const post = (body: unknown) => postJob(app, body);
  const job = (over: Record<string, unknown>): Record<string, unknown> => ({
    ...resizeJob("file:///tmp/ok.png", "file:///tmp/out.png", { width: 10 }),
    ...over,
  });
  const notJson = await post('{\n  "operationType": "resize",\n  "srcURL" "file:///tmp/ok.png"\n}');
  assertEquals([notJson.status, notJson.json], [400, {
    msg: "request parse error",
    code: 121,
    error: "the body is not valid JSON: expected ':' after property name at line 3, column 12",
  }]);
  const cut = await post('{"operationType": "resize",');
  assertEquals(cut.json.error, "the body is not valid JSON: expected double-quoted property name at line 1, column 28");
  const cases: [Record<string, unknown>, number, number][] = [
    [{ operationType: undefined }, 400, 101],
    [{ args: [] }, 400, 102],
    [{ operationType: "sharpen" }, 400, 103],
    [{ args: { width: 0 } }, 400, 104],
    [{ dstURL: "file:///tmp/{$colour}.png" }, 400, 105],
  ];
  for (const [over, status, code] of cases) {
    const body = job(over);
    if (over.operationType === undefined && "operationType" in over) delete body.operationType;
    const reply = await post(body);
    assertEquals(
      [reply.status, reply.json.msg, reply.json.code],
      [status, "request invalid", code],
      JSON.stringify(over),
    );
    assert(typeof reply.json.error === "string" && reply.json.error.length > 10);
  }
});

Deno.test("every failure found while accepting a job answers with its status and code, and the server keeps serving", async () => {
  await using dir = await tempDir();
  await Deno.writeFile(`${dir.path}/ok.png`, await png(thirds(30, 30)));
  await Deno.writeTextFile(`${dir.path}/text.png`, "this is not an image at all");
  await Deno.writeTextFile(`${dir.path}/blocker`, "a file where a folder should be");
  await using src = httpServer((req) =>
    new URL(req.url).pathname === "/boom" ? new Response("no", { status: 500 }) : new Response("nope", { status: 404 })
  );
  const closedPort = freePort();
  await using imgserve = await serve();
  const job = (over: Record<string, unknown>): Record<string, unknown> => ({
    ...resizeJob(`file://${dir.path}/ok.png`, `file://${dir.path}/out.png`, { width: 10 }),
    ...over,
  });
  const cases: [Record<string, unknown>, number, number][] = [
    [{ srcURL: "gopher://h/a.png" }, 400, 107],
    [{ dstURL: "mailto:someone@example.com" }, 400, 107],
    [{ srcURL: `file://${dir.path}/missing.png` }, 404, 202],
    [{ srcURL: `${src.base}/missing.png` }, 404, 202],
    [{ srcURL: `${src.base}/boom` }, 502, 208],
    [{ srcURL: `http://127.0.0.1:${closedPort}/a.png` }, 502, 201],
    [{ srcURL: `file://${dir.path}/text.png` }, 422, 204],
    [{ operationType: "rasterize" }, 415, 205],
    [{ dstURL: `file://${dir.path}/blocker/out.png` }, 502, 301],
  ];
  for (const [over, status, code] of cases) {
    const reply = await imgserve.post(job(over));
    assertEquals(
      [reply.status, reply.json.msg, reply.json.code],
      [status, "request invalid", code],
      JSON.stringify(over),
    );
    assert(typeof reply.json.error === "string" && reply.json.error.length > 10);
  }
  const unknown = await fetch(`${imgserve.base}/jobs/nope`);
  assertEquals([unknown.status, (await unknown.json()).code], [404, 605]);
  const health = await fetch(`${imgserve.base}/healthz`);
  assertEquals([health.status, (await health.json()).ok], [200, true]);
  const ok = await imgserve.post(job({}));
  assertEquals(ok.status, 202);
  assertEquals((await imgserve.finished(ok.json.id as string)).state, "done");
  assertEquals([...Deno.readDirSync(dir.path)].map((e) => e.name).sort(), ["blocker", "ok.png", "out.png", "text.png"]);
});

Deno.test("a worker crash fails only its job; the pool replaces the worker and keeps serving", async () => {
  using _held = holdBackStderr(DELIBERATE_CRASH);
  await using dir = await tempDir();
  await Deno.writeFile(`${dir.path}/a.png`, await png(thirds(60, 30)));
  await using imgserve = await serve(["--workers", "1", "--retry-base-ms", "50"], {
    workerURL: new URL("./fixtures/crashing_worker.ts", import.meta.url),
  });
  // Posted together, so the second job is waiting in the crashing worker.
  const [crash, bystander] = await Promise.all([
    imgserve.post(resizeJob(`file://${dir.path}/a.png`, `file://${dir.path}/crash.png`, { width: 13 })),
    imgserve.post(resizeJob(`file://${dir.path}/a.png`, `file://${dir.path}/bystander.png`, { width: 15 })),
  ]);
  const failed = await imgserve.finished(crash.json.id as string);
  assertEquals([failed.state, failed.code], ["failed", 602]);
  const after = await imgserve.finished(bystander.json.id as string);
  assertEquals([after.state, after.attempts], ["done", 1], "the job sent ahead ran again at once");
  assertEquals((await decode(await Deno.readFile(`${dir.path}/bystander.png`))).width, 15);
  const next = await imgserve.post(resizeJob(`file://${dir.path}/a.png`, `file://${dir.path}/fine.png`, { width: 14 }));
  assertEquals((await imgserve.finished(next.json.id as string)).state, "done");
  assertEquals((await decode(await Deno.readFile(`${dir.path}/fine.png`))).width, 14);
  assertEquals((await (await fetch(`${imgserve.base}/healthz`)).json()).workers, 1);
});

Deno.test("a result that cannot be stored fails its job with 301, and the worker goes on", async () => {
  await using dir = await tempDir();
  await using source = heldSource({ "/a.png": await png(thirds(60, 30)) });
  await using imgserve = await serve(["--workers", "1"]);
  await Deno.mkdir(`${dir.path}/out`);
  const job = await imgserve.post(resizeJob(`${source.base}/a.png`, `file://${dir.path}/out/a.png`, { width: 20 }));
  assertEquals(job.status, 202);
  // The placeholder is in place; now the folder turns into a file.
  await Deno.remove(`${dir.path}/out`, { recursive: true });
  await Deno.writeTextFile(`${dir.path}/out`, "not a folder");
  source.release();
  const failed = await imgserve.finished(job.json.id as string);
  assertEquals([failed.state, failed.code], ["failed", 301]);
  const next = await imgserve.post(resizeJob(`${source.base}/a.png`, `file://${dir.path}/fine.png`, { width: 20 }));
  assertEquals((await imgserve.finished(next.json.id as string)).state, "done");
  assertEquals((await decode(await Deno.readFile(`${dir.path}/fine.png`))).width, 20);
  assertEquals([...Deno.readDirSync(dir.path)].map((e) => e.name).sort(), ["fine.png", "out"]);
});

Deno.test("a local photo is read by the worker when its turn comes; replaced meanwhile, it is checked again and made from the new file", async () => {
  await using dir = await tempDir();
  await Deno.writeFile(`${dir.path}/big.png`, await png(thirds(3000, 2000)));
  await Deno.writeFile(`${dir.path}/photo.png`, await png(thirds(300, 100)));
  await using imgserve = await serve(["--workers", "1", "--retry-base-ms", "50"]);
  // Keeps the one worker busy while the photo waits.
  const busy = await imgserve.post(
    resizeJob(`file://${dir.path}/big.png`, `file://${dir.path}/out/big.png`, { width: 90, height: 60 }),
  );
  const reply = await imgserve.post(
    resizeJob(`file://${dir.path}/photo.png`, `file://${dir.path}/out/photo.png`, { width: 50, height: 50 }),
  );
  const waiting = await (await fetch(`${imgserve.base}/jobs/${reply.json.id}`)).json();
  assertEquals(waiting.state, "running", "journaled as running at once: nothing is left to download");
  await Deno.writeFile(`${dir.path}/new.png`, await png(painted(300, 100, () => BLUE)));
  await Deno.rename(`${dir.path}/new.png`, `${dir.path}/photo.png`);
  const done = await imgserve.finished(reply.json.id as string);
  assertEquals([done.state, done.attempts], ["done", 2], JSON.stringify(done));
  const result = await decode(await Deno.readFile(`${dir.path}/out/photo.png`));
  assert(near(pixel(result, 25, 25), BLUE), `centre is ${pixel(result, 25, 25)}`);
  assertEquals((await imgserve.finished(busy.json.id as string)).state, "done");
});
