/**
 * A TIFF's header read before the reply: from a prefix when its IFD comes
 * first, asking for exactly the bytes it needs when its IFD comes last (as
 * libtiff writes it), any page by number, and every bad directory refused
 * with its code rather than followed.
 */
import { assert, assertEquals, assertThrows } from "../helpers/assert.ts";
import { tempDir } from "../helpers/server.ts";
import { tool } from "../helpers/tools.ts";
import { greyPage, tiffFile } from "../helpers/hostile.ts";
import { NeedMoreBytes, readHeader } from "../../src/image/header.ts";
import { ImgserveError } from "../../protocol/error_codes.ts";

function refusal(read: () => unknown): ImgserveError {
  return assertThrows(read, ImgserveError);
}

Deno.test("a TIFF's size, alpha and orientation come from its IFD, with the sides swapped for orientations 5-8", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/a.tif`;
  await tool("convert", ["-size", "41x23", "xc:red", "-alpha", "set", "-depth", "8", "-compress", "lzw", path]);
  assertEquals(readHeader(await Deno.readFile(path), true), {
    format: "tiff",
    width: 41,
    height: 23,
    orientation: 1,
    hasAlpha: true,
    // ImageMagick's strips of 8 KiB or so: whole rows of 8-bit RGBA.
    blockBytes: 41 * 4 * 23,
  });
  await tool("tiffset", ["-s", "274", "6", path]);
  const turned = readHeader(await Deno.readFile(path), true);
  assertEquals([turned.width, turned.height, turned.orientation, turned.hasAlpha], [23, 41, 6, true]);
});

Deno.test("an IFD after the pixels asks for the bytes up to it, and reads from exactly that prefix", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/a.tif`;
  await tool("convert", ["-size", "300x200", "xc:blue", "-compress", "none", path]);
  const bytes = await Deno.readFile(path);
  const err = assertThrows(() => readHeader(bytes.subarray(0, 4096), false), NeedMoreBytes);
  const needed = err.needed!;
  assert(needed > 300 * 200 * 3 && needed <= bytes.length, `needed ${needed} of ${bytes.length}`);
  // The first page's entries all lie below `needed` or are read later; the header itself is there.
  let header;
  for (let end = needed; !header; end = Math.min(bytes.length, end + 64)) {
    try {
      header = readHeader(bytes.subarray(0, end), end === bytes.length);
    } catch (e) {
      if (!(e instanceof NeedMoreBytes)) throw e;
    }
  }
  assertEquals([header.width, header.height], [300, 200]);
  assertEquals(refusal(() => readHeader(bytes.subarray(0, 4096), true)).name, "SOURCE_NOT_IMAGE");
});

Deno.test("args.page picks a page; one past the last is PAGE_NOT_FOUND, naming how many there are", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/pages.tif`;
  await tool("convert", ["-size", "30x20", "xc:red", "-size", "50x40", "xc:blue", "-compress", "zip", path]);
  const bytes = await Deno.readFile(path);
  assertEquals([readHeader(bytes, true).width, readHeader(bytes, true, 1).width], [30, 50]);
  assertEquals(readHeader(bytes, true, 1).page, 1);
  const err = refusal(() => readHeader(bytes, true, 2));
  assertEquals([err.name, err.code], ["PAGE_NOT_FOUND", 127]);
  assert(err.message.includes("has 2 pages"), err.message);
});

Deno.test("an IFD chain that loops back ends at the loop: the pages it has are found, no further", () => {
  const strip = new Uint8Array(12);
  const looped = tiffFile(strip, [greyPage(4, 3, 12), greyPage(5, 3, 12)], -1);
  assertEquals(readHeader(looped, true, 1).width, 5);
  const err = refusal(() => readHeader(looped, true, 9999));
  assertEquals(err.name, "PAGE_NOT_FOUND");
  assert(err.message.includes("has 2 pages"), err.message);
});

Deno.test("bad directories are refused with their code, never followed", () => {
  const strip = new Uint8Array(12);
  const page = greyPage(4, 3, 12);
  const cases: [string, Uint8Array, string][] = [
    ["a zero width", tiffFile(strip, [page.map((e) => e.tag === 256 ? { ...e, values: [0] } : e)]), "SOURCE_NOT_IMAGE"],
    ["no IFD entries", tiffFile(strip, [[]]), "SOURCE_NOT_IMAGE"],
    [
      "old-style JPEG",
      tiffFile(strip, [page.map((e) => e.tag === 259 ? { ...e, values: [6] } : e)]),
      "TIFF_UNSUPPORTED",
    ],
    [
      "CCITT fax coding",
      tiffFile(strip, [page.map((e) => e.tag === 259 ? { ...e, values: [4] } : e)]),
      "TIFF_UNSUPPORTED",
    ],
    ["float samples", tiffFile(strip, [[...page, { tag: 339, type: 3, values: [3] }]]), "TIFF_UNSUPPORTED"],
    [
      "12-bit samples",
      tiffFile(strip, [page.map((e) => e.tag === 258 ? { ...e, values: [12] } : e)]),
      "TIFF_UNSUPPORTED",
    ],
  ];
  for (const [name, bytes, code] of cases) assertEquals(refusal(() => readHeader(bytes, true)).name, code, name);
  // An IFD offset far past the end: more bytes are asked for while the file may go on, then it is corrupt.
  const far = tiffFile(strip, [page]);
  new DataView(far.buffer).setUint32(4, 0x7ffffff0, true);
  const short = assertThrows(() => readHeader(far, false), NeedMoreBytes);
  assert(short.needed! > 0x7ffffff0);
  assertEquals(refusal(() => readHeader(far, true)).name, "SOURCE_NOT_IMAGE");
  // An IFD claiming 60000 entries.
  const many = tiffFile(strip, [page]);
  new DataView(many.buffer).setUint16(new DataView(many.buffer).getUint32(4, true), 60000, true);
  assertEquals(refusal(() => readHeader(many, true)).name, "SOURCE_NOT_IMAGE");
  // A BigTIFF.
  const big = new Uint8Array([0x49, 0x49, 43, 0, 8, 0, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0]);
  assertEquals(refusal(() => readHeader(big, true)).name, "TIFF_UNSUPPORTED");
});
