import { assert, assertEquals } from "../helpers/assert.ts";
import { decode, near, pixel, png, RED, thirds, undecodablePng } from "../helpers/images.ts";
import { OPEN_FLAGS, serve, tempDir } from "../helpers/server.ts";
import { spawnServer } from "../helpers/process.ts";
import { placeholderFor } from "../../src/image/placeholder.ts";
import { jobBody, rasterizeJob, resizeJob, waitFinished } from "../helpers/jobs.ts";

const base64 = (bytes: Uint8Array) => bytes.toBase64();

const svgWith = (body: string, size = 100) =>
  `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="${size}" height="${size}">${body}</svg>`;

/** Resident memory of a process and its children, bytes. */
function rssTree(pid: number): number {
  let total = 0;
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const status = Deno.readTextFileSync(`/proc/${entry.name}/status`);
      const ppid = Number(/^PPid:\s+(\d+)/m.exec(status)?.[1]);
      if (Number(entry.name) === pid || ppid === pid) total += Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0) * 1024;
    } catch {
      // ended while we looked
    }
  }
  return total;
}

Deno.test("images embedded in an SVG count against --max-source-pixels before rendering; memory stays flat", async () => {
  await using dir = await tempDir();
  // Real images: a 10000x10001 PNG (over 100 MP) and a 12000x12000 JPEG, flat grey, small once compressed.
  const pngBomb = base64(await placeholderFor("png", 10_000, 10_001));
  const jpegBomb = base64(await placeholderFor("jpeg", 12_000, 12_000));
  const nested = base64(
    new TextEncoder().encode(svgWith(`<image width="10" height="10" href="data:image/png;base64,${pngBomb}"/>`)),
  );
  const bombs: Record<string, string> = {
    "png.svg": svgWith(`<image width="100" height="100" href="data:image/png;base64,${pngBomb}"/>`),
    "xlink-escaped.svg": svgWith(
      `<image width="100" height="100" xlink:href="&#100;ata:image/png;base64,\n${
        pngBomb.replace(/(.{76})/g, "$1\n")
      }"/>`,
    ),
    "jpeg.svg": svgWith(`<image width="100" height="100" href='data:image/jpeg;base64,${jpegBomb}'/>`),
    "nested.svg": svgWith(`<image width="100" height="100" href="data:image/svg+xml;base64,${nested}"/>`),
    "feimage.svg": svgWith(
      `<filter id="f"><feImage href="data:image/png;base64,${pngBomb}"/></filter><rect width="9" height="9" filter="url(#f)"/>`,
    ),
    "five-halves.svg": svgWith(
      `<image width="10" height="10" href="data:;base64,${base64(await placeholderFor("png", 5000, 4001))}"/>`.repeat(
        5,
      ),
    ),
    "filter-region.svg": svgWith(
      `<filter id="f" filterUnits="userSpaceOnUse" x="-50000" y="-50000" width="100000" height="100000">` +
        `<feGaussianBlur stdDeviation="5"/><feOffset dx="3"/></filter><rect width="9" height="9" filter="url(#f)"/>`,
      3000,
    ),
  };
  for (const [name, svg] of Object.entries(bombs)) await Deno.writeTextFile(`${dir.path}/${name}`, svg);
  const red = base64(await png(redSquare()));
  await Deno.writeTextFile(
    `${dir.path}/fine.svg`,
    svgWith(`<image width="100" height="100" preserveAspectRatio="none" href="data:image/png;base64,${red}"/>`),
  );
  // A process of its own, so its memory (and its render processes') is measured apart from other tests.
  await using imgserve = await spawnServer(["--workers", "2", "--kv", ":memory:", ...OPEN_FLAGS]);
  const post = async (body: unknown) => {
    const response = await fetch(`${imgserve.base}/`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    return { status: response.status, json: await response.json() };
  };
  const before = rssTree(imgserve.child.pid);
  let peak = before;
  const replies = await Promise.all(
    Object.keys(bombs).map((name) =>
      post(rasterizeJob(`file://${dir.path}/${name}`, `file://${dir.path}/out-${name}.png`))
    ),
  );
  for (const [i, name] of Object.keys(bombs).entries()) {
    assertEquals([name, replies[i].status, replies[i].json.code], [name, 413, 502], JSON.stringify(replies[i].json));
    peak = Math.max(peak, rssTree(imgserve.child.pid));
  }
  assert(/embedded images of \d+ pixels|filter layers/.test(String(replies[0].json.error)), replies[0].json.error);
  // Nothing was placed at the destinations.
  assertEquals([...Deno.readDirSync(dir.path)].filter((e) => e.name.startsWith("out-")), []);
  // An SVG with a small embedded image still renders, the image in it.
  const fine = await post(rasterizeJob(`file://${dir.path}/fine.svg`, `file://${dir.path}/fine.png`));
  assertEquals(fine.status, 202);
  const done = await waitFinished(imgserve.base, fine.json.id, 30_000);
  assertEquals(done.state, "done");
  const image = await decode(await Deno.readFile(`${dir.path}/fine.png`));
  assert(near(pixel(image, 50, 50), RED), `the embedded image is drawn: ${pixel(image, 50, 50)}`);
  peak = Math.max(peak, rssTree(imgserve.child.pid));
  // The bombs decoded would take 400-576 MB each; refused up front they cost nothing. The one small render
  // starts a render process (about 100 MB).
  const grown = peak - before;
  assert(grown < 200 * 1024 * 1024, `server and children grew by ${Math.round(grown / 1048576)} MB`);
});

function redSquare(): ImageData {
  return new ImageData(new Uint8ClampedArray(4 * 4 * 4).map((_, i) => [255, 0, 0, 255][i % 4]), 4, 4);
}

Deno.test("a result over --max-result-pixels is refused at validation: 16383x16383 gets 507", async () => {
  await using dir = await tempDir();
  await Deno.writeFile(`${dir.path}/a.png`, await png(thirds(30, 30)));
  await Deno.writeTextFile(`${dir.path}/a.svg`, svgWith(`<rect width="50" height="50" fill="red"/>`));
  await using imgserve = await serve();
  const big = { width: 16383, height: 16383 };
  const resized = await imgserve.post(
    resizeJob(`file://${dir.path}/a.png`, `file://${dir.path}/o.png`, { ...big, mode: "stretch" }),
  );
  assertEquals([resized.status, resized.json.code], [422, 507]);
  const drawn = await imgserve.post(rasterizeJob(`file://${dir.path}/a.svg`, `file://${dir.path}/o.png`, big));
  assertEquals([drawn.status, drawn.json.code], [422, 507]);
  assertEquals([...Deno.readDirSync(dir.path)].length, 2, "no placeholder was written");
  // The largest side alone is still fine.
  const strip = await imgserve.post(
    resizeJob(`file://${dir.path}/a.png`, `file://${dir.path}/s.png`, { width: 16383, height: 2, mode: "stretch" }),
  );
  assertEquals(strip.status, 202);
  assertEquals((await imgserve.finished(strip.json.id as string)).state, "done");
});

Deno.test("codec failures reach the client as plain sentences, never codec internals", async () => {
  await using dir = await tempDir();
  const good = await png(thirds(120, 80));
  // Whole chunks of garbage image data: the decoder's own failure (a cut file is refused before it, 606).
  await Deno.writeFile(`${dir.path}/cut.png`, undecodablePng(good));
  await Deno.writeTextFile(
    `${dir.path}/deep.svg`,
    svgWith(`${"<g>".repeat(100_000)}<rect width="10" height="10"/>${"</g>".repeat(100_000)}`),
  );
  await Deno.writeTextFile(`${dir.path}/broken.svg`, svgWith(`<rect width="10" height="10">`));
  await using imgserve = await serve();
  const jobs = {
    "cut.png": {
      operationType: "resize" as const,
      args: { width: 20 },
      expect: /^the image could not be processed: the PNG data is truncated or corrupt$/,
    },
    "deep.svg": {
      operationType: "rasterize" as const,
      args: {},
      expect: /^the image could not be processed: the SVG could not be parsed: nodes limit reached$/,
    },
    "broken.svg": {
      operationType: "rasterize" as const,
      args: {},
      expect:
        /^the image could not be processed: the SVG could not be parsed: expected 'rect' tag, not 'svg' at 1:\d+$/,
    },
  };
  for (const [name, { operationType, args, expect }] of Object.entries(jobs)) {
    const reply = await imgserve.post(
      jobBody(operationType, `file://${dir.path}/${name}`, `file://${dir.path}/out-${name}.png`, args),
    );
    assertEquals(reply.status, 202, name);
    const job = await imgserve.finished(reply.json.id as string);
    assertEquals([name, job.state, job.code], [name, "failed", 601]);
    const error = String(job.error);
    assert(expect.test(error), `${name}: ${error}`);
    assert(!/unwrap|aliasing|wasm|rust|`|cause/i.test(error), `${name}: ${error}`);
  }
});
