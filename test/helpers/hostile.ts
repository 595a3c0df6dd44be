/**
 * Hostile images made in a few milliseconds: PNGs whose metadata inflates
 * to a gibibyte (zlib bombs) and JPEGs that repeat one scan thousands of
 * times. Nothing here is written to disk but by the test that asks.
 */
import { constants, deflateRawSync } from "node:zlib";
import { concat } from "../../shared/bytes.ts";
import { pngChunk } from "../../shared/png_file.ts";

/**
 * A zlib stream of `mib` MiB of zero bytes, about 1 KiB a MiB: one
 * byte-aligned deflate run of 1 MiB (it refers only to itself) repeated,
 * then a final empty block and the Adler-32 of the zeros.
 */
export function zlibZeros(mib: number): Uint8Array {
  const run = deflateRawSync(new Uint8Array(1 << 20), { finishFlush: constants.Z_SYNC_FLUSH });
  const out = new Uint8Array(2 + run.length * mib + 2 + 4);
  out.set([0x78, 0x9c]);
  for (let i = 0; i < mib; i++) out.set(run, 2 + i * run.length);
  const end = 2 + run.length * mib;
  out.set([0x03, 0x00], end);
  // Adler-32 of n zeros: a stays 1, b is n.
  new DataView(out.buffer).setUint32(end + 2, ((mib * (1 << 20)) % 65521) * 65536 + 1);
  return out;
}

/** The PNG with `chunk` (type and data) placed right after its IHDR. */
export function withPngChunk(png: Uint8Array, type: string, data: Uint8Array): Uint8Array<ArrayBuffer> {
  const ihdrEnd = 8 + 12 + 13;
  return concat([png.subarray(0, ihdrEnd), pngChunk(type, data), png.subarray(ihdrEnd)]);
}

const ascii = (text: string) => new TextEncoder().encode(text);

/**
 * The PNG with metadata whose zlib data inflates to `mib` MiB of zeros:
 * an ICC profile (`iCCP`), or compressed text (`zTXt`, `iTXt`).
 */
export function pngBomb(png: Uint8Array, type: "iCCP" | "zTXt" | "iTXt", mib = 1024): Uint8Array<ArrayBuffer> {
  // Keyword, NUL, then: compression method 0; for iTXt, the compressed flag, method, language and translated keyword.
  const head = { iCCP: "bomb\0\0", zTXt: "Comment\0\0", iTXt: "XML:com.adobe.xmp\0\x01\0\0\0" }[type];
  return withPngChunk(png, type, concat([ascii(head), zlibZeros(mib)]));
}

/** The entropy-coded scans of a JPEG (SOS segment and data), in order, as [start, end) offsets. */
function scans(jpeg: Uint8Array): [number, number][] {
  const found: [number, number][] = [];
  for (let at = 2; at + 4 <= jpeg.length && jpeg[at + 1] !== 0xd9;) {
    const marker = jpeg[at + 1];
    let end = at + 2 + ((jpeg[at + 2] << 8) | jpeg[at + 3]);
    if (marker === 0xda) {
      // Up to the next marker that is neither byte stuffing nor a restart.
      while (jpeg[end] !== 0xff || jpeg[end + 1] === 0 || (jpeg[end + 1] >= 0xd0 && jpeg[end + 1] <= 0xd7)) end++;
      found.push([at, end]);
    }
    at = end;
  }
  return found;
}

/**
 * The JPEG with its last scan repeated `times` more times before EOI: a
 * few bytes each when the scan codes runs of empty blocks, a pass over the
 * whole image each for the decoder.
 */
export function repeatedScans(jpeg: Uint8Array, times: number): Uint8Array<ArrayBuffer> {
  const all = scans(jpeg);
  const [from, to] = all[all.length - 1];
  const eoi = jpeg.lastIndexOf(0xd9) - 1;
  return concat([jpeg.subarray(0, eoi), ...Array(times).fill(jpeg.subarray(from, to)), jpeg.subarray(eoi)]);
}

/** One IFD entry of {@linkcode tiffFile}: a tag, its type (3 SHORT, 4 LONG, 7 UNDEFINED) and its values. */
export interface TiffEntry {
  tag: number;
  type: 3 | 4 | 7;
  values: number[];
}

/**
 * A little-endian TIFF written byte by byte, for what no tool writes: the
 * header, then `data` (the strips), then IFDs holding `pages` (each a list
 * of entries; values that do not fit in 4 bytes follow their IFD). `next`
 * overrides the last IFD's next-IFD offset (a loop: point it back). Offsets
 * in entries are taken as given: place strips at 8 (where `data` starts).
 */
export function tiffFile(data: Uint8Array, pages: TiffEntry[][], next = 0): Uint8Array<ArrayBuffer> {
  const size = { 3: 2, 4: 4, 7: 1 } as const;
  const parts: number[] = [0x49, 0x49, 42, 0, 0, 0, 0, 0, ...data];
  const offsets: number[] = [];
  const u32 = (at: number, v: number) => parts.splice(at, 4, v & 255, (v >> 8) & 255, (v >> 16) & 255, v >>> 24);
  const push = (v: number, bytes: number) => {
    for (let i = 0; i < bytes; i++) parts.push((v >>> (8 * i)) & 255);
  };
  for (const entries of pages) {
    if (parts.length % 2) parts.push(0);
    offsets.push(parts.length);
    const sorted = [...entries].sort((a, b) => a.tag - b.tag);
    const ifd = parts.length;
    let extra = ifd + 2 + sorted.length * 12 + 4;
    push(sorted.length, 2);
    const outOfLine: [number, TiffEntry][] = [];
    for (const entry of sorted) {
      push(entry.tag, 2);
      push(entry.type, 2);
      push(entry.values.length, 4);
      const bytes = entry.values.length * size[entry.type];
      if (bytes <= 4) {
        for (const v of entry.values) push(v, size[entry.type]);
        push(0, 4 - bytes);
      } else {
        push(extra, 4);
        outOfLine.push([extra, entry]);
        extra += bytes + (bytes % 2);
      }
    }
    push(0, 4);
    for (const [, entry] of outOfLine) {
      for (const v of entry.values) push(v, size[entry.type]);
      if (parts.length % 2) parts.push(0);
    }
  }
  u32(4, offsets[0] ?? 0);
  offsets.forEach((at, i) => {
    const count = parts[at] | (parts[at + 1] << 8);
    u32(at + 2 + count * 12, i + 1 < offsets.length ? offsets[i + 1] : next === -1 ? offsets[0] : next);
  });
  return new Uint8Array(parts);
}

/** The entries of a `width` x `height` 8-bit grey page with one strip of `stripBytes` at offset 8. */
export function greyPage(width: number, height: number, stripBytes: number, compression = 1): TiffEntry[] {
  return [
    { tag: 256, type: 4, values: [width] },
    { tag: 257, type: 4, values: [height] },
    { tag: 258, type: 3, values: [8] },
    { tag: 259, type: 3, values: [compression] },
    { tag: 262, type: 3, values: [1] },
    { tag: 273, type: 4, values: [8] },
    { tag: 277, type: 3, values: [1] },
    { tag: 278, type: 4, values: [height] },
    { tag: 279, type: 4, values: [stripBytes] },
  ];
}
