/**
 * TIFF sources through the real server: a resize job's size and colours,
 * `args.page` (checked at the request, and against the file's pages before
 * the reply), the pixel limit applied from the IFD before any decoding, a
 * TIFF whose IFD sits after its pixels read over HTTP in chunks, and
 * hostile files failing with their codes while the server goes on serving.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { decode, near, pixel } from "../helpers/images.ts";
import { assertHealthy, httpServer, serve, tempDir } from "../helpers/server.ts";
import { magickPixels, psnr, tool } from "../helpers/tools.ts";
import { resizeJob } from "../helpers/jobs.ts";
import { greyPage, tiffFile, zlibZeros } from "../helpers/hostile.ts";

const FLOWER = "/usr/share/backgrounds/mate/nature/FreshFlower.jpg";

Deno.test("a TIFF resize job through the server gives the asked size and the colours ImageMagick gives", async () => {
  await using dir = await tempDir();
  await using imgserve = await serve();
  const src = `${dir.path}/photo.tif`;
  await tool("convert", [FLOWER, "-resize", "400x300!", "-compress", "lzw", "-define", "tiff:predictor=2", src]);
  const reply = await imgserve.post(
    resizeJob(`file://${src}`, `file://${dir.path}/out/{$basename}.{$format}`, { width: 200, height: 150 }),
  );
  assertEquals(reply.status, 202, JSON.stringify(reply.json));
  // TIFF is not written: the result is a PNG by default.
  assertEquals(reply.json.dstURL, `file://${dir.path}/out/photo.png`);
  assertEquals((await imgserve.finished(reply.json.id as string)).state, "done");
  const result = await decode(await Deno.readFile(`${dir.path}/out/photo.png`));
  assertEquals([result.width, result.height], [200, 150]);
  const reference = await magickPixels(src, "-filter", "Lanczos", "-resize", "200x150!");
  const db = psnr(result, reference);
  assert(db >= 30, `PSNR ${db.toFixed(1)} dB against ImageMagick's resize`);
});

Deno.test("args.page picks the second page; a page past the last is 127 and a bad page 104, before any work", async () => {
  await using dir = await tempDir();
  await using imgserve = await serve();
  const src = `${dir.path}/pages.tif`;
  await tool("convert", ["-size", "60x40", "xc:red", "-size", "80x50", "xc:blue", "-compress", "zip", src]);
  const job = (args: Record<string, unknown>) =>
    imgserve.post(resizeJob(`file://${src}`, `file://${dir.path}/out/{$width}x{$height}.png`, args));
  const second = await job({ width: 40, page: 1 });
  assertEquals(second.status, 202, JSON.stringify(second.json));
  assertEquals(second.json.dstURL, `file://${dir.path}/out/40x25.png`);
  assertEquals((await imgserve.finished(second.json.id as string)).state, "done");
  const blue = await decode(await Deno.readFile(`${dir.path}/out/40x25.png`));
  assert(near(pixel(blue, 20, 12), [0, 0, 255, 255], 4), `${pixel(blue, 20, 12)}`);
  const first = await job({ width: 30 });
  assertEquals(first.json.dstURL, `file://${dir.path}/out/30x20.png`);
  assertEquals((await imgserve.finished(first.json.id as string)).state, "done");
  const missing = await job({ width: 40, page: 2 });
  assertEquals([missing.status, missing.json.code], [400, 127]);
  assert(String(missing.json.error).includes("has 2 pages"), String(missing.json.error));
  for (const page of [-1, 1.5, "1", null, 10_000]) {
    const bad = await job({ width: 40, page });
    if (page === null) continue;
    assertEquals([bad.status, bad.json.code], [400, 104], `page ${JSON.stringify(page)}`);
  }
  const png = `${dir.path}/one.png`;
  await tool("convert", ["-size", "10x10", "xc:red", png]);
  const notTiff = await imgserve.post(
    resizeJob(`file://${png}`, `file://${dir.path}/out/p.png`, { width: 5, page: 1 }),
  );
  assertEquals([notTiff.status, notTiff.json.code], [400, 127]);
  const differing = await imgserve.post({
    operationType: "resize",
    srcURL: `file://${src}`,
    outputs: [
      { dstURL: `file://${dir.path}/out/a.png`, args: { width: 10, page: 1 } },
      { dstURL: `file://${dir.path}/out/b.png`, args: { width: 10 } },
    ],
  });
  assertEquals([differing.status, differing.json.code], [400, 104]);
});

Deno.test("a TIFF over the pixel limit is refused from its IFD (502), its strips never read", async () => {
  await using dir = await tempDir();
  await using imgserve = await serve(["--max-source-pixels", "10000"]);
  const real = `${dir.path}/real.tif`;
  await tool("convert", [FLOWER, "-resize", "200x100!", "-compress", "lzw", real]);
  // 100000 x 100000 claimed in a 200-byte file: only the header could say so.
  const claim = `${dir.path}/claim.tif`;
  await Deno.writeFile(claim, tiffFile(new Uint8Array(16), [greyPage(100_000, 100_000, 16)]));
  for (const path of [real, claim]) {
    const reply = await imgserve.post(resizeJob(`file://${path}`, `file://${dir.path}/out/x.png`, { width: 10 }));
    assertEquals([reply.status, reply.json.code], [413, 502], path);
  }
});

Deno.test("a TIFF whose IFD follows its pixels is read over HTTP in chunks, as far as its IFD, then resized", async () => {
  await using dir = await tempDir();
  await using imgserve = await serve();
  const src = `${dir.path}/big.tif`;
  await tool("convert", [FLOWER, "-resize", "800x600!", "-compress", "none", src]);
  const bytes = await Deno.readFile(src);
  let chunks = 0;
  await using source = httpServer(() => {
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let at = 0; at < bytes.length; at += 16384) {
          controller.enqueue(bytes.slice(at, at + 16384));
          chunks++;
        }
        controller.close();
      },
    });
    return new Response(stream);
  });
  const reply = await imgserve.post(
    resizeJob(`${source.base}/big.tif`, `file://${dir.path}/out/big.png`, { width: 80 }),
  );
  assertEquals(reply.status, 202, JSON.stringify(reply.json));
  assertEquals((await imgserve.finished(reply.json.id as string)).state, "done");
  const result = await decode(await Deno.readFile(`${dir.path}/out/big.png`));
  assertEquals([result.width, result.height], [80, 60]);
  assert(chunks > 50, `${chunks} chunks`);
});

Deno.test("hostile TIFFs fail with clear codes, and the server keeps serving", async () => {
  await using dir = await tempDir();
  await using imgserve = await serve();
  const strip = new Uint8Array(64);
  const page = greyPage(8, 8, 64);
  const bomb = zlibZeros(256);
  const pastEnd = page.map((e) => e.tag === 273 ? { ...e, values: [0x7fff0000] } : e);
  const manyStrips = page.map((e) => e.tag === 278 ? { ...e, values: [1] } : e);
  const cases: [string, Uint8Array, number][] = [
    ["an IFD loop asked for page 5", tiffFile(strip, [page, page], -1), 127],
    ["a strip past the end of the file", tiffFile(strip, [pastEnd]), 606],
    ["a Deflate bomb in its strip", tiffFile(bomb, [greyPage(64, 64, bomb.length, 8)]), 608],
    ["fewer strips than its rows need", tiffFile(strip, [manyStrips]), 601],
    [
      "an IFD past the end",
      (() => {
        const b = tiffFile(strip, [page]);
        new DataView(b.buffer).setUint32(4, 1 << 30, true);
        return b;
      })(),
      204,
    ],
    ["old-style JPEG", tiffFile(strip, [page.map((e) => e.tag === 259 ? { ...e, values: [6] } : e)]), 609],
    [
      "one 16-bit RGBA strip of 6000x6000 (the plan's memory)",
      tiffFile(strip, [[
        ...greyPage(6000, 6000, 64).filter((e) => ![258, 262, 277].includes(e.tag)),
        { tag: 258, type: 3, values: [16, 16, 16, 16] },
        { tag: 262, type: 3, values: [2] },
        { tag: 277, type: 3, values: [4] },
        { tag: 338, type: 3, values: [2] },
      ]]),
      508,
    ],
    [
      "a palette without its colour map",
      tiffFile(strip, [page.map((e) => e.tag === 262 ? { ...e, values: [3] } : e)]),
      601,
    ],
  ];
  for (const [name, bytes, code] of cases) {
    const path = `${dir.path}/hostile.tif`;
    await Deno.writeFile(path, bytes);
    const reply = await imgserve.post(
      resizeJob(`file://${path}`, `file://${dir.path}/out/h.png`, { width: 4, ...(code === 127 ? { page: 5 } : {}) }),
    );
    if (reply.status === 202) {
      const job = await imgserve.finished(reply.json.id as string);
      assertEquals([job.state, job.code], ["failed", code], `${name}: ${JSON.stringify(job)}`);
      assert(/TIFF/.test(String(job.error)), `${name}: ${job.error}`);
    } else {
      assertEquals(reply.json.code, code, `${name}: ${JSON.stringify(reply.json)}`);
      assert(/TIFF|tiff/.test(String(reply.json.error)), `${name}: ${reply.json.error}`);
    }
    await assertHealthy(imgserve.base);
  }
});

Deno.test("a CMYK TIFF goes through the server's CMYK profile as a CMYK JPEG of the same pixels does", async () => {
  await using dir = await tempDir();
  await using imgserve = await serve();
  await tool("convert", [
    FLOWER,
    "-resize",
    "240x180!",
    "-colorspace",
    "CMYK",
    "-compress",
    "lzw",
    `${dir.path}/c.tif`,
  ]);
  await tool("convert", [`${dir.path}/c.tif`, "-quality", "100", "-sampling-factor", "1x1", `${dir.path}/c.jpg`]);
  const results = [];
  for (const name of ["c.tif", "c.jpg"]) {
    const reply = await imgserve.post(
      resizeJob(`file://${dir.path}/${name}`, `file://${dir.path}/out/${name}.png`, { width: 120, format: "png" }),
    );
    assertEquals(reply.status, 202, JSON.stringify(reply.json));
    assertEquals((await imgserve.finished(reply.json.id as string)).state, "done");
    results.push(await decode(await Deno.readFile(`${dir.path}/out/${name}.png`)));
  }
  const db = psnr(results[0], results[1]);
  assert(db >= 35, `PSNR ${db.toFixed(1)} dB between the TIFF's and the JPEG's results`);
  // Not the plain formula: the profile's conversion differs from ImageMagick's R = (1-C)(1-K).
  const formula = await magickPixels(
    `${dir.path}/c.tif`,
    "-colorspace",
    "sRGB",
    "-filter",
    "Lanczos",
    "-resize",
    "120x90!",
  );
  assert(psnr(results[0], formula) < db, "the CMYK TIFF was converted by the plain formula");
});
