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
import { greyPage, tiffFile, zlibZeros } from "../../helpers/hostile.ts";

/** 1600x1203, many colours. */
const FLOWER = "/usr/share/backgrounds/mate/nature/FreshFlower.jpg";
const WIDE = "/usr/share/color/icc/colord/WideGamutRGB.icc";

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

Deno.test("a TIFF's orientation tag turns it upright, as ImageMagick's -auto-orient does", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/turned.tif`;
  await tool("convert", [FLOWER, "-resize", "160x90!", "-compress", "lzw", path]);
  for (const orientation of [3, 6, 8]) {
    await tool("tiffset", ["-s", "274", String(orientation), path]);
    const ours = await decodeTiffFile(path);
    const theirs = await magickPixels(path, "-auto-orient");
    assertEquals([ours.width, ours.height], [theirs.width, theirs.height], `orientation ${orientation}`);
    const db = psnr(ours, theirs);
    assert(db >= 50, `orientation ${orientation}: PSNR ${db.toFixed(1)} dB`);
  }
});

Deno.test("a TIFF's embedded ICC profile (tag 34675) is converted to sRGB, as lcms2 converts it", async () => {
  await using dir = await tempDir();
  const srgb = "/usr/share/color/icc/colord/sRGB.icc";
  const path = `${dir.path}/wide.tif`;
  await tool("convert", [FLOWER, "-resize", "128x80!", "-profile", srgb, "-profile", WIDE, "-compress", "zip", path]);
  await assertTiffinfo(path, ["ICC Profile"]);
  const ours = await decodeTiffFile(path);
  const reference = await magickPixels(path, "-profile", srgb);
  const untransformed = await magickPixels(path, "+profile", "*");
  const db = psnr(ours, reference);
  assert(db >= 38, `PSNR ${db.toFixed(1)} dB against the converted reference`);
  assert(psnr(ours, untransformed) < db - 5, "the profile made no difference");
});

Deno.test("args.page decodes the second page of a multi-page TIFF", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/pages.tif`;
  await tool("convert", [
    ...[FLOWER, "-resize", "64x48!", "(", FLOWER, "-resize", "90x70!", "-flip", "-colorspace", "gray", ")"],
    ...["-compress", "lzw", path],
  ]);
  const second = await decodeTiffFile(path, 1);
  assertEquals([second.width, second.height], [90, 70]);
  await assertLikeMagick(path, 50, 1);
  await assertLikeMagick(path, 50, 0);
});

Deno.test("a corrupt or cut TIFF is damaged (606), and with failOn none decodes what is there", async () => {
  await using dir = await tempDir();
  for (const compression of ["lzw", "zip", "none", "rle"]) {
    const path = `${dir.path}/${compression}.tif`;
    await tool("convert", [FLOWER, "-resize", "200x150!", "-compress", compression, path]);
    const bytes = await Deno.readFile(path);
    const view = new DataView(bytes.buffer);
    const ifd = view.getUint32(4, true);
    const entries = view.getUint16(ifd, true);
    const entry = (tag: number) => {
      for (let i = 0; i < entries; i++) if (view.getUint16(ifd + 2 + i * 12, true) === tag) return ifd + 2 + i * 12;
      throw new Error(`no tag ${tag}`);
    };
    const strips = view.getUint32(entry(273) + 4, true);
    const lastOffset = strips === 1 ? entry(273) + 8 : view.getUint32(entry(273) + 8, true) + 4 * (strips - 1);
    const cases: [string, Uint8Array][] = [];
    // The last strip moved to the file's last bytes: its count runs past the end, as in a cut download.
    const cut = bytes.slice();
    new DataView(cut.buffer).setUint32(lastOffset, cut.length - 16, true);
    cases.push(["cut", cut]);
    if (compression === "lzw" || compression === "zip") {
      // Garbage over the middle of the compressed data (which ImageMagick puts before its IFD).
      const garbled = bytes.slice();
      for (let i = Math.floor(ifd * 0.4); i < Math.floor(ifd * 0.6); i++) garbled[i] = (i * 131) & 255;
      cases.push(["garbled", garbled]);
    }
    for (const [name, damagedBytes] of cases) {
      const file = `${dir.path}/${compression}-${name}.tif`;
      await Deno.writeFile(file, damagedBytes);
      const err = await assertRejects(() => decodeTiffFile(file), ImgserveError);
      assertEquals(err.name, "SOURCE_DAMAGED", `${compression} ${name}: ${err.message}`);
      assert(/TIFF is damaged/.test(err.message), err.message);
      const taken = await decodeTiffFile(file, 0, "none");
      assertEquals([taken.width, taken.height], [200, 150], `${compression} ${name}`);
    }
  }
});

Deno.test("a Deflate strip that inflates past its rows is a bomb stopped at their size (608)", async () => {
  await codecs();
  // 16x16 grey needs 256 bytes; the strip holds 64 MiB of zeros.
  const strip = zlibZeros(64);
  const bytes = tiffFile(strip, [greyPage(16, 16, strip.length, 8)]);
  const path = `${Deno.makeTempFileSync({ suffix: ".tif" })}`;
  try {
    await Deno.writeFile(path, bytes);
    const started = performance.now();
    const err = await assertRejects(() => decodeTiffFile(path), ImgserveError);
    assertEquals([err.name, err.code], ["TIFF_STRIP_TOO_LARGE", 608]);
    assert(performance.now() - started < 2000, "the bomb was inflated further than its strip");
  } finally {
    await Deno.remove(path);
  }
});

/** Sets the value count and value offset of the first IFD's entry for `tag`. */
function patchEntry(bytes: Uint8Array, tag: number, count: number, offset: number): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const ifd = view.getUint32(4, true);
  for (let i = 0; i < view.getUint16(ifd, true); i++) {
    const entry = ifd + 2 + i * 12;
    if (view.getUint16(entry, true) !== tag) continue;
    view.setUint32(entry + 4, count, true);
    view.setUint32(entry + 8, offset, true);
    return;
  }
  throw new Error(`no tag ${tag}`);
}

Deno.test("a TIFF's ICC profile over 4 MiB is 514; one past the end of the file is ignored", async () => {
  await using dir = await tempDir();
  const strip = new Uint8Array(16).fill(200);
  const withProfile = () =>
    tiffFile(strip, [[...greyPage(4, 4, 16), { tag: 34675, type: 7, values: [1, 2, 3, 4, 5] }]]);
  const huge = withProfile();
  patchEntry(huge, 34675, 5 << 20, 8);
  await Deno.writeFile(`${dir.path}/huge.tif`, huge);
  const err = await assertRejects(() => decodeTiffFile(`${dir.path}/huge.tif`), ImgserveError);
  assertEquals([err.name, err.code], ["METADATA_TOO_LARGE", 514]);
  const gone = withProfile();
  patchEntry(gone, 34675, 3000, 1 << 20);
  await Deno.writeFile(`${dir.path}/gone.tif`, gone);
  const image = await decodeTiffFile(`${dir.path}/gone.tif`);
  assertEquals([image.width, image.height, image.data[0]], [4, 4, 200]);
});
