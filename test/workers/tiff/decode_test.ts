/**
 * The TIFF decoder against ImageMagick's reading of the same files, made at
 * test time by libtiff's tiffcp and by ImageMagick: each compression, bit
 * depth, colour model and layout, decoded through the worker's decode steps
 * (colour to sRGB and orientation included).
 */
import { assert, assertEquals, assertRejects } from "../../helpers/assert.ts";
import { codecs } from "../../helpers/images.ts";
import { tempDir } from "../../helpers/server.ts";
import { magickPixels, psnr, tool } from "../../helpers/tools.ts";
import { readHeader } from "../../../src/image/header.ts";
import { decodeSource } from "../../../workers/pipeline/mod.ts";
import { StageTimer } from "../../../workers/ops/timer.ts";
import type { Plan } from "../../../protocol/plan.ts";
import { ImgserveError } from "../../../protocol/error_codes.ts";

/** 1600x1203, many colours. */
const FLOWER = "/usr/share/backgrounds/mate/nature/FreshFlower.jpg";

/** The file's first page (or `page`) decoded at full size, upright, in sRGB. */
export async function decodeTiffFile(path: string, page = 0, failOn: "warning" | "none" = "warning") {
  await codecs();
  const bytes = await Deno.readFile(path);
  const source = readHeader(bytes, true, page);
  const plan: Plan = {
    op: "resize",
    source,
    width: source.width,
    height: source.height,
    format: "png",
    quality: 80,
    mode: "fit",
    crop: { x: 0, y: 0, width: source.width, height: source.height },
    failOn,
  };
  return (await decodeSource(bytes, [plan], new StageTimer())).image;
}

/** Asserts our decode of `path` matches ImageMagick's (page `page`) to `minPsnr` dB, alpha included when `alpha`. */
async function assertLikeMagick(path: string, minPsnr: number, page = 0, alpha = false): Promise<void> {
  const ours = await decodeTiffFile(path, page);
  const theirs = await magickPixels(`${path}[${page}]`);
  assertEquals([ours.width, ours.height], [theirs.width, theirs.height], path);
  const db = psnr(ours, theirs);
  assert(db >= minPsnr, `${path}: PSNR ${db.toFixed(1)} dB, under ${minPsnr}`);
  if (alpha) {
    let worst = 0;
    for (let i = 3; i < ours.data.length; i += 4) worst = Math.max(worst, Math.abs(ours.data[i] - theirs.data[i]));
    assert(worst <= 1, `${path}: alpha differs by up to ${worst}`);
  }
}

/** An RGB TIFF of a photo, uncompressed, 8-bit, in strips of 16 rows. */
async function photoTiff(dir: string, size = "400x300"): Promise<string> {
  const path = `${dir}/photo.tif`;
  await tool("convert", [
    FLOWER,
    "-resize",
    `${size}!`,
    "-compress",
    "none",
    "-define",
    "tiff:rows-per-strip=16",
    path,
  ]);
  return path;
}

for (
  const [name, args] of [
    ["uncompressed strips", ["-c", "none", "-r", "7"]],
    ["LZW strips", ["-c", "lzw", "-r", "16"]],
    ["LZW with the horizontal predictor", ["-c", "lzw:2", "-r", "32"]],
    ["Deflate strips", ["-c", "zip", "-r", "10"]],
    ["Deflate with the horizontal predictor", ["-c", "zip:2"]],
    ["PackBits strips", ["-c", "packbits", "-r", "8"]],
    ["LZW tiles", ["-c", "lzw", "-t", "-w", "64", "-l", "48"]],
    ["Deflate tiles with the predictor", ["-c", "zip:2", "-t", "-w", "128", "-l", "128"]],
    ["JPEG strips (YCbCr)", ["-c", "jpeg:90", "-r", "16"]],
    ["JPEG tiles (YCbCr)", ["-c", "jpeg:90", "-t", "-w", "64", "-l", "64"]],
    ["JPEG strips (RGB)", ["-c", "jpeg:r:90", "-r", "16"]],
    ["separate planes, LZW", ["-c", "lzw", "-p", "separate", "-r", "20"]],
    ["separate planes in tiles", ["-c", "zip", "-p", "separate", "-t", "-w", "32", "-l", "32"]],
  ] as const
) {
  Deno.test(`a TIFF with ${name} decodes as ImageMagick reads it`, async () => {
    await using dir = await tempDir();
    const photo = await photoTiff(dir.path, "333x211");
    const path = `${dir.path}/out.tif`;
    await tool("tiffcp", [...args, photo, path]);
    // JPEG: two decoders' rounding of the same DCT data.
    await assertLikeMagick(path, name.startsWith("JPEG") ? 38 : 50);
  });
}

/** Asserts libtiff's tiffinfo describes the file with each of `facts`: the fixture is what its test says. */
async function assertTiffinfo(path: string, facts: readonly string[]): Promise<void> {
  const { stdout } = await new Deno.Command("tiffinfo", { args: [path], stdout: "piped", stderr: "null" }).output();
  const info = new TextDecoder().decode(stdout);
  for (const fact of facts) assert(info.includes(fact), `tiffinfo ${path} does not say "${fact}":\n${info}`);
}

for (
  const [name, convert, facts] of [
    ["16-bit RGB, Deflate", ["-depth", "16", "-compress", "zip"], ["Bits/Sample: 16", "Deflate"]],
    ["16-bit RGB with the predictor", ["-depth", "16", "-compress", "lzw", "-define", "tiff:predictor=2"], [
      "Bits/Sample: 16",
      "horizontal differencing",
    ]],
    ["8-bit grey", ["-colorspace", "gray", "-compress", "lzw"], ["min-is-black", "Bits/Sample: 8"]],
    ["16-bit grey", ["-colorspace", "gray", "-depth", "16", "-compress", "zip"], ["min-is-black", "Bits/Sample: 16"]],
    ["4-bit grey", ["-colorspace", "gray", "-depth", "4", "-compress", "none"], ["min-is-black", "Bits/Sample: 4"]],
    ["2-bit grey", ["-colorspace", "gray", "-depth", "2", "-compress", "none"], ["min-is-black", "Bits/Sample: 2"]],
    ["1-bit MinIsWhite", [
      ...["-monochrome", "-depth", "1", "-define", "quantum:polarity=min-is-white", "-compress", "rle"],
    ], ["min-is-white", "Bits/Sample: 1", "PackBits"]],
    ["8-bit MinIsWhite", ["-colorspace", "gray", "-define", "quantum:polarity=min-is-white", "-compress", "lzw"], [
      "min-is-white",
      "Bits/Sample: 8",
    ]],
    ["an 8-bit palette", ["-colors", "200", "-type", "palette", "-compress", "lzw"], ["palette", "Bits/Sample: 8"]],
    ["a 4-bit palette", ["-colors", "16", "-type", "palette", "-depth", "4", "-compress", "none"], [
      "palette",
      "Bits/Sample: 4",
    ]],
    ["8-bit CMYK", ["-colorspace", "CMYK", "-compress", "lzw"], ["separated", "Bits/Sample: 8"]],
    ["16-bit CMYK", ["-colorspace", "CMYK", "-depth", "16", "-compress", "zip"], ["separated", "Bits/Sample: 16"]],
    ["unassociated alpha", [
      ...["-alpha", "set", "-channel", "A", "-fx", "i/w", "+channel", "-define", "tiff:alpha=unassociated"],
      ...["-compress", "lzw"],
    ], ["unassoc-alpha"]],
    ["associated alpha", [
      ...["-alpha", "set", "-channel", "A", "-fx", "0.2+0.8*j/h", "+channel", "-define", "tiff:alpha=associated"],
      ...["-compress", "zip"],
    ], ["assoc-alpha"]],
    ["16-bit alpha", ["-alpha", "set", "-channel", "A", "-fx", "i/w", "+channel", "-depth", "16", "-compress", "zip"], [
      "Bits/Sample: 16",
      "alpha",
    ]],
  ] as const
) {
  Deno.test(`a TIFF of ${name} decodes as ImageMagick reads it`, async () => {
    await using dir = await tempDir();
    const path = `${dir.path}/out.tif`;
    await tool("convert", [FLOWER, "-resize", "257x190!", ...convert, path]);
    await assertTiffinfo(path, facts);
    await assertLikeMagick(path, 45, 0, name.includes("alpha"));
  });
}
