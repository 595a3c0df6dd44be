import { assert, assertEquals } from "../helpers/assert.ts";
import { decode, pixel, png } from "../helpers/images.ts";
import { serve, tempDir } from "../helpers/server.ts";
import { contains, halfRedPng, magickPixels, psnr, tool } from "../helpers/tools.ts";
import { readHeader } from "../../src/image/header.ts";
import { resizeJob } from "../helpers/jobs.ts";

const WALLPAPERS = "/usr/share/backgrounds/gnome";

Deno.test("every GNOME WebP wallpaper's size comes from its VP8 header, as libwebp's webpinfo reads it", async () => {
  const names = [...Deno.readDirSync(WALLPAPERS)].map((e) => e.name).filter((n) => n.endsWith(".webp"));
  assert(names.length >= 10, `${names.length} WebP wallpapers`);
  for (const name of names) {
    const file = await Deno.open(`${WALLPAPERS}/${name}`);
    const prefix = new Uint8Array(64);
    const n = (await file.read(prefix)) ?? 0;
    file.close();
    const header = readHeader(prefix.subarray(0, n), false);
    const out = await new Deno.Command("webpinfo", { args: [`${WALLPAPERS}/${name}`] }).output();
    const info = new TextDecoder().decode(out.stdout);
    assertEquals(
      `${header.width} ${header.height}`,
      /Width: (\d+)\s+Height: (\d+)/.exec(info)!.slice(1).join(" "),
      name,
    );
    assertEquals(header.format, "webp");
  }
});

Deno.test("VP8L and VP8X headers give size and alpha", async () => {
  await using dir = await tempDir();
  await Deno.writeFile(`${dir.path}/a.png`, await png(new ImageData(new Uint8ClampedArray(37 * 23 * 4), 37, 23)));
  await tool("cwebp", ["-quiet", "-lossless", `${dir.path}/a.png`, "-o", `${dir.path}/lossless.webp`]);
  await tool("cwebp", ["-quiet", "-q", "70", `${dir.path}/a.png`, "-o", `${dir.path}/lossy-alpha.webp`]);
  const lossless = readHeader(await Deno.readFile(`${dir.path}/lossless.webp`), true);
  assertEquals([lossless.width, lossless.height, lossless.hasAlpha], [37, 23, true]);
  const vp8x = await Deno.readFile(`${dir.path}/lossy-alpha.webp`);
  assertEquals(new TextDecoder().decode(vp8x.subarray(12, 16)), "VP8X");
  const lossy = readHeader(vp8x, true);
  assertEquals([lossy.width, lossy.height, lossy.hasAlpha], [37, 23, true]);
});

Deno.test("a GNOME WebP wallpaper becomes a WebP thumbnail named by {$format}, WebP placeholder first", async () => {
  await using dir = await tempDir();
  await using imgserve = await serve();
  // The 256x256 one: the 4096x4096 ones take seconds to decode, and the bench uses them.
  const source = `${WALLPAPERS}/vnc-d.webp`;
  await Deno.copyFile(source, `${dir.path}/vnc-d.webp`);
  const reply = await imgserve.post(
    resizeJob(`file://${dir.path}/vnc-d.webp`, `file://${dir.path}/out/{$basename}-{$width}.{$format}`, {
      width: 200,
      height: 120,
      quality: 90,
    }),
  );
  assertEquals(reply.status, 202);
  const path = `${dir.path}/out/vnc-d-200.webp`;
  assertEquals(reply.json.dstURL, `file://${path}`);
  const placeholder = await Deno.readFile(path);
  // Either still the placeholder or already the result: a WebP of the right size either way.
  assertEquals([readHeader(placeholder, true).format, readHeader(placeholder, true).width], ["webp", 200]);
  const done = await imgserve.finished(reply.json.id as string);
  assertEquals(done.state, "done", JSON.stringify(done));
  const bytes = await Deno.readFile(path);
  const result = await decode(bytes);
  assertEquals([result.width, result.height], [200, 120]);
  const reference = await magickPixels(source, "-resize", "200x120^", "-gravity", "center", "-extent", "200x120");
  const db = psnr(result, reference);
  assert(db > 28, `PSNR ${db.toFixed(1)} dB against ImageMagick`);
  assert(!contains(bytes, "EXIF") && !contains(bytes, "XMP ") && !contains(bytes, "ICCP"), "metadata chunk");
});

Deno.test("WebP with alpha keeps it as WebP (lossy and lossless) and as PNG; lossless is exact", async () => {
  await using dir = await tempDir();
  await using imgserve = await serve();
  // Left half opaque red, right half transparent, made by ImageMagick and cwebp.
  await halfRedPng(`${dir.path}/a.png`);
  await tool("cwebp", ["-quiet", "-lossless", "-exact", `${dir.path}/a.png`, "-o", `${dir.path}/a.webp`]);
  const run = async (args: Record<string, unknown>, name: string) => {
    const reply = await imgserve.post(resizeJob(`file://${dir.path}/a.webp`, `file://${dir.path}/${name}`, args));
    assertEquals(reply.status, 202, JSON.stringify(reply.json));
    assertEquals((await imgserve.finished(reply.json.id as string)).state, "done");
    return await Deno.readFile(`${dir.path}/${name}`);
  };
  const lossy = await decode(await run({ width: 32 }, "lossy.webp"));
  assertEquals([lossy.width, lossy.height], [32, 16]);
  assert(
    pixel(lossy, 4, 8)[3] > 240 && pixel(lossy, 28, 8)[3] < 15,
    `alpha ${pixel(lossy, 4, 8)} ${pixel(lossy, 28, 8)}`,
  );
  const losslessBytes = await run({ width: 64, lossless: true }, "lossless.webp");
  assertEquals(new TextDecoder().decode(losslessBytes.subarray(12, 16)), "VP8L");
  const lossless = await decode(losslessBytes);
  assertEquals(pixel(lossless, 10, 10), [255, 0, 0, 255]);
  assertEquals(pixel(lossless, 50, 10)[3], 0);
  const asPng = await decode(await run({ width: 64, format: "png" }, "a.png.out"));
  assertEquals([pixel(asPng, 10, 10), pixel(asPng, 50, 10)[3]], [[255, 0, 0, 255], 0]);
});
