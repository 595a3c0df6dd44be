import { assert, assertEquals } from "../helpers/assert.ts";
import { png, thirds } from "../helpers/images.ts";
import { heldSource, httpServer, serve, tempDir, validatingApp } from "../helpers/server.ts";
import { placeholderFor } from "../../src/image/placeholder.ts";
import { postJob, rasterizeJob, resizeJob, waitFinished } from "../helpers/jobs.ts";

const resize = (srcURL: string, dstURL: string, args: Record<string, unknown> = { width: 10 }) =>
  resizeJob(srcURL, dstURL, args);

/** A PNG whose header claims any size; its pixel data is absent. */
function claimingPng(width: number, height: number): Uint8Array {
  const bytes = new Uint8Array(8 + 25);
  bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const view = new DataView(bytes.buffer);
  view.setUint32(8, 13);
  bytes.set(new TextEncoder().encode("IHDR"), 12);
  view.setUint32(16, width);
  view.setUint32(20, height);
  bytes.set([8, 6, 0, 0, 0], 24);
  return bytes;
}

Deno.test("a request body over --max-body-bytes gets 413 with code 501", async () => {
  const app = validatingApp(["--max-body-bytes", "1000"]);
  const reply = await postJob(app, { ...resize("file:///a.png", "file:///b.png"), pad: "x".repeat(2000) });
  assertEquals([reply.status, reply.json.code], [413, 501]);
});

Deno.test("a source over --max-source-bytes is refused up front, or stopped while downloading", async () => {
  await using dir = await tempDir();
  const big = await png(thirds(200, 200));
  await Deno.writeFile(`${dir.path}/big.png`, big);
  let sent = 0;
  await using src = httpServer((req) => {
    if (new URL(req.url).pathname === "/sized.png") return new Response(big);
    // No Content-Length: the limit can only be enforced while reading.
    let i = 0;
    return new Response(
      new ReadableStream({
        pull(controller) {
          const chunk = i === 0 ? big.subarray(0, 100) : new Uint8Array(64 * 1024);
          i++;
          sent += chunk.length;
          controller.enqueue(chunk);
          if (i > 1600) controller.close(); // 100 MB
        },
      }),
    );
  });
  await using imgserve = await serve(["--max-source-bytes", String(big.length - 1)]);
  const file = await imgserve.post(resize(`file://${dir.path}/big.png`, `file://${dir.path}/o1.png`));
  assertEquals([file.status, file.json.code], [413, 203]);
  const http = await imgserve.post(resize(`${src.base}/sized.png`, `file://${dir.path}/o2.png`));
  assertEquals([http.status, http.json.code], [413, 203]);
  const endless = await imgserve.post(resize(`${src.base}/endless.png`, `file://${dir.path}/o3.png`));
  assertEquals(endless.status, 202);
  const failed = await imgserve.finished(endless.json.id as string);
  assertEquals([failed.state, failed.code], ["failed", 203]);
  // Socket buffers hold a few MB; a server that read on would take all 100 MB.
  assert(sent < 20_000_000, `the server kept reading: ${sent} bytes sent`);
});

Deno.test("a PNG claiming 100000x100000 is refused from its header, before any decoding", async () => {
  await using dir = await tempDir();
  await Deno.writeFile(`${dir.path}/bomb.png`, claimingPng(100_000, 100_000));
  await using imgserve = await serve();
  const reply = await imgserve.post(resize(`file://${dir.path}/bomb.png`, `file://${dir.path}/o.png`));
  assertEquals([reply.status, reply.json.code], [413, 502]);
  assertEquals([...Deno.readDirSync(dir.path)].length, 1);
});

Deno.test("results over --max-side are refused with code 503", async () => {
  await using dir = await tempDir();
  await Deno.writeFile(`${dir.path}/a.png`, await png(thirds(30, 30)));
  await using imgserve = await serve(["--max-side", "500"]);
  const asked = await imgserve.post(resize(`file://${dir.path}/a.png`, `file://${dir.path}/o.png`, { width: 501 }));
  assertEquals([asked.status, asked.json.code], [422, 503]);
  const implied = await imgserve.post(
    resize(`file://${dir.path}/a.png`, `file://${dir.path}/o.png`, { width: 400, height: 1, mode: "fit" }),
  );
  assertEquals(implied.status, 202);
  const tall = await imgserve.post(resize(`file://${dir.path}/a.png`, `file://${dir.path}/o.png`, { height: 20000 }));
  assertEquals([tall.status, tall.json.code], [422, 503]);
});

Deno.test("SVGs over --max-svg-bytes, with entities, or rendering too long are refused", async () => {
  await using dir = await tempDir();
  const rects = Array.from(
    { length: 200 },
    (_, i) =>
      `<rect x="${i}" y="${i}" width="3000" height="3000" fill="#${
        (i * 4111).toString(16).padStart(6, "0").slice(-6)
      }" filter="url(#b)"/>`,
  ).join("");
  await Deno.writeTextFile(
    `${dir.path}/slow.svg`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="3000" height="3000"><filter id="b"><feGaussianBlur stdDeviation="80"/></filter>${rects}</svg>`,
  );
  await Deno.writeTextFile(
    `${dir.path}/lol.svg`,
    `<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><text>&b;</text></svg>`,
  );
  await using imgserve = await serve(["--max-svg-bytes", "10000", "--render-timeout-ms", "200"]);
  const big = await imgserve.post(rasterizeJob(`file://${dir.path}/slow.svg`, `file://${dir.path}/o.png`));
  assertEquals([big.status, big.json.code], [413, 504]);
  const lol = await imgserve.post(rasterizeJob(`file://${dir.path}/lol.svg`, `file://${dir.path}/o.png`));
  assertEquals([lol.status, lol.json.code], [422, 204]);
  await using roomy = await serve(["--render-timeout-ms", "200", "--workers", "1"]);
  const slow = await roomy.post(rasterizeJob(`file://${dir.path}/slow.svg`, `file://${dir.path}/o.png`));
  assertEquals(slow.status, 202);
  const failed = await roomy.finished(slow.json.id as string);
  assertEquals([failed.state, failed.code], ["failed", 603]);
  const health = await (await fetch(`${roomy.base}/healthz`)).json();
  assertEquals(health.workers, 1);
});

Deno.test("a source that never answers times out with code 206 instead of hanging", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) held.push(conn);
  })();
  try {
    await using imgserve = await serve(["--transfer-timeout-ms", "300"]);
    const started = Date.now();
    const reply = await imgserve.post(
      resize(`http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}/a.png`, "file:///tmp/x.png"),
    );
    assertEquals([reply.status, reply.json.code], [504, 206]);
    assert(Date.now() - started < 5000);
  } finally {
    listener.close();
    await accepting.catch(() => {});
    for (const conn of held) conn.close();
  }
});

Deno.test("past --max-queue unfinished jobs, requests get 503 with Retry-After", async () => {
  await using dir = await tempDir();
  const source = await png(thirds(30, 30));
  await using src = heldSource({ "/a.png": source });
  await using imgserve = await serve(["--max-queue", "1"]);
  const first = await imgserve.post(resize(`${src.base}/a.png`, `file://${dir.path}/1.png`));
  assertEquals(first.status, 202);
  const second = await imgserve.post(resize(`${src.base}/a.png`, `file://${dir.path}/2.png`));
  assertEquals([second.status, second.json.code, second.headers.get("retry-after")], [503, 505, "5"]);
  src.release();
  assertEquals((await imgserve.finished(first.json.id as string)).state, "done");
  const third = await imgserve.post(resize(`${src.base}/a.png`, `file://${dir.path}/3.png`));
  assertEquals(third.status, 202);
  assertEquals((await imgserve.finished(third.json.id as string)).state, "done");
});

Deno.test("a worker that runs out of memory fails its job only and is replaced", async () => {
  await using dir = await tempDir();
  // A real 40000x40000 PNG (flat grey, 1.6 MB): decoding it needs 6.4 GB, past a WASM codec's 4 GB.
  await Deno.writeFile(`${dir.path}/huge.png`, await placeholderFor("png", 40_000, 40_000));
  await Deno.writeFile(`${dir.path}/a.png`, await png(thirds(30, 30)));
  // A budget too large to refuse it first (see pool/recycle_test.ts for that).
  await using imgserve = await serve([
    "--max-source-pixels",
    "2000000000",
    "--workers",
    "1",
    "--worker-memory",
    "1000000",
  ]);
  const huge = await imgserve.post(resize(`file://${dir.path}/huge.png`, `file://${dir.path}/huge-out.png`));
  assertEquals(huge.status, 202);
  // Inflating 4 GB before the codec gives up takes 8-15 s alone, and over 60 s on a machine loaded 12-15 deep.
  const failed = await waitFinished(imgserve.base, huge.json.id as string, 180_000);
  assertEquals([failed.state, failed.code], ["failed", 601]);
  assert(String(failed.error).includes("memory"), String(failed.error));
  const next = await imgserve.post(resize(`file://${dir.path}/a.png`, `file://${dir.path}/a-out.png`));
  assertEquals((await imgserve.finished(next.json.id as string)).state, "done");
  const health = await (await fetch(`${imgserve.base}/healthz`)).json();
  assertEquals([health.ok, health.workers], [true, 1]);
});
