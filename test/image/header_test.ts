import { assertEquals, assertThrows } from "../helpers/assert.ts";
import { NeedMoreBytes, readHeader } from "../../src/image/header.ts";
import { ImgserveError } from "../../protocol/error_codes.ts";
import { jpeg, painted, png, RED, withOrientation } from "../helpers/images.ts";
import { tempDir } from "../helpers/server.ts";
import { gridHeic } from "../helpers/heif_grid.ts";
import { tool } from "../helpers/tools.ts";

Deno.test("PNG size comes from IHDR, alpha from the colour type", async () => {
  const bytes = await png(painted(37, 21, () => RED));
  const header = readHeader(bytes.subarray(0, 40), false);
  assertEquals([header.format, header.width, header.height], ["png", 37, 21]);
});

Deno.test("JPEG size comes from SOF, and EXIF orientation 6 swaps the sides", async () => {
  const bytes = await jpeg(painted(40, 16, () => RED));
  assertEquals(readHeader(bytes, true).width, 40);
  const rotated = readHeader(withOrientation(bytes, 6), true);
  assertEquals([rotated.width, rotated.height, rotated.orientation], [16, 40, 6]);
});

Deno.test("a short prefix asks for more bytes; a truncated file is not an image", async () => {
  const bytes = await jpeg(painted(40, 16, () => RED));
  assertThrows(() => readHeader(bytes.subarray(0, 20), false), NeedMoreBytes);
  const err = assertThrows(() => readHeader(bytes.subarray(0, 20), true), ImgserveError);
  assertEquals(err.code, 204);
});

Deno.test("SVG size from width/height with units, or from the viewBox", () => {
  const svg = (attrs: string) =>
    new TextEncoder().encode(`<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" ${attrs}></svg>`);
  assertEquals(readHeader(svg(`width="120" height="80"`), true).width, 120);
  assertEquals(readHeader(svg(`width="1in" height="72pt"`), true).height, 96);
  const vb = readHeader(svg(`viewBox="0 0 300 150"`), true);
  assertEquals([vb.width, vb.height], [300, 150]);
  const half = readHeader(svg(`width="600" viewBox="0 0 300 150"`), true);
  assertEquals([half.width, half.height], [600, 300]);
});

Deno.test("a TIFF without IFD entries is not an image, a BigTIFF unsupported, random bytes not an image", () => {
  const tiff = new Uint8Array([0x49, 0x49, 0x2a, 0, 8, 0, 0, 0, 0, 0]);
  assertEquals(assertThrows(() => readHeader(tiff, true), ImgserveError).code, 204);
  const big = new Uint8Array([0x4d, 0x4d, 0, 0x2b, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 16]);
  assertEquals(assertThrows(() => readHeader(big, true), ImgserveError).code, 609);
  const junk = new Uint8Array(64).fill(7);
  assertEquals(assertThrows(() => readHeader(junk, true), ImgserveError).code, 204);
});

Deno.test("every prefix and many bit flips of WebP, AVIF, HEIC, GIF, BMP and TIFF headers give a header or a clear code", async () => {
  await using dir = await tempDir();
  await tool("convert", ["-size", "40x30", "gradient:red-blue", `${dir.path}/g.png`]);
  await tool("cwebp", ["-quiet", "-lossless", `${dir.path}/g.png`, "-o", `${dir.path}/g.webp`]);
  await tool("avifenc", ["-s", "10", "--irot", "1", `${dir.path}/g.png`, `${dir.path}/g.avif`]);
  // A phone's layout: a grid of tiles, turned, with a profile.
  const icc = await Deno.readFile("/usr/share/color/icc/colord/sRGB.icc");
  await tool("convert", ["-size", "150x100", "gradient:red-blue", `${dir.path}/h.png`]);
  await Deno.writeFile(
    `${dir.path}/g.heic`,
    await gridHeic(dir.path, `${dir.path}/h.png`, 150, 100, 64, { irot: 1, icc }),
  );
  await tool("convert", [`${dir.path}/g.png`, `${dir.path}/g.gif`]);
  await tool("convert", [`${dir.path}/g.png`, `${dir.path}/g.bmp`]);
  await tool("convert", [`${dir.path}/g.png`, "-compress", "lzw", `${dir.path}/g.tif`]);
  let seed = 7;
  const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  for (const ext of ["webp", "avif", "heic", "gif", "bmp", "tif"]) {
    const good = await Deno.readFile(`${dir.path}/g.${ext}`);
    const header = readHeader(good, true);
    assertEquals([header.width * header.height], [ext === "heic" ? 15000 : 1200], ext);
    const cases = [];
    // The HEIC's meta box, with six tiles' properties, is longer than the others' headers.
    const span = ext === "heic" ? 2000 : 600;
    for (let n = 0; n < Math.min(good.length, span); n++) cases.push(good.subarray(0, n));
    for (let i = 0; i < 300; i++) {
      const flipped = good.slice(0, span);
      flipped[Math.floor(rand() * flipped.length)] ^= 1 << Math.floor(rand() * 8);
      cases.push(flipped);
    }
    for (const bytes of cases) {
      for (const complete of [true, false]) {
        try {
          readHeader(bytes, complete);
        } catch (err) {
          const ok = err instanceof ImgserveError || (!complete && err instanceof NeedMoreBytes);
          if (!ok) throw new Error(`${ext} (${bytes.length} bytes, complete ${complete}): ${err}`);
        }
      }
    }
  }
});
