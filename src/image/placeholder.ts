/**
 * Placeholder images: a flat grey image of exactly the result's size in the
 * result's format, built by hand so it costs almost nothing and never needs
 * a worker. A flat image compresses to a few bytes per row (PNG), two bits
 * per 8x8 block (JPEG) or nothing at all (WebP lossless, whose prefix codes
 * of one symbol each cost zero bits per pixel).
 *
 * @module
 */
import type { OutputFormat } from "../../protocol/plan.ts";
import { flatAvif } from "./placeholder_avif.ts";
import { concat } from "../../shared/bytes.ts";
import { PngColour, pngFile } from "../../shared/png_file.ts";
import { flatGif } from "../../shared/gif_writer.ts";

/**
 * A flat grey image of `width` x `height` in `format`.
 *
 * @example
 * ```ts
 * const png = await placeholderFor("png", 200, 120);
 * ```
 */
export function placeholderFor(format: OutputFormat, width: number, height: number): Promise<Uint8Array<ArrayBuffer>> {
  switch (format) {
    case "png":
      return flatPng(width, height);
    case "webp":
      return Promise.resolve(flatWebp(width, height));
    case "avif":
      return Promise.resolve(flatAvif(width, height));
    case "gif":
      return Promise.resolve(flatGif(width, height));
    default:
      return Promise.resolve(flatJpeg(width, height));
  }
}

const GREY = 0x80;

async function flatPng(width: number, height: number): Promise<Uint8Array<ArrayBuffer>> {
  // Row one is grey; every later row uses the Up filter with zero deltas.
  const first = new Uint8Array(width + 1).fill(GREY);
  first[0] = 0;
  const rowsPerChunk = Math.max(1, Math.floor((1 << 20) / (width + 1)));
  const restChunk = new Uint8Array((width + 1) * rowsPerChunk);
  for (let r = 0; r < rowsPerChunk; r++) restChunk[r * (width + 1)] = 2;
  const compressed = new CompressionStream("deflate");
  const writer = compressed.writable.getWriter();
  const collected = new Response(compressed.readable).arrayBuffer();
  await writer.write(first);
  for (let left = height - 1; left > 0; left -= rowsPerChunk) {
    const rows = Math.min(left, rowsPerChunk);
    await writer.write(rows === rowsPerChunk ? restChunk : restChunk.subarray(0, rows * (width + 1)));
  }
  await writer.close();
  return pngFile(width, height, PngColour.grey, new Uint8Array(await collected));
}

function flatJpeg(width: number, height: number): Uint8Array<ArrayBuffer> {
  const blocks = Math.ceil(width / 8) * Math.ceil(height / 8);
  // Huffman tables with one symbol each: DC category 0 and AC end-of-block
  // both get the 1-bit code "0", so every block is two zero bits, and DC 0
  // after the level shift is grey 128.
  const scanBits = blocks * 2;
  const scan = new Uint8Array(Math.ceil(scanBits / 8));
  const pad = scan.length * 8 - scanBits;
  if (pad > 0) scan[scan.length - 1] = (1 << pad) - 1;
  const huffman = (tableClass: number) => [0xff, 0xc4, 0, 20, (tableClass << 4) | 0, 1, ...new Array(15).fill(0), 0];
  return concat([
    new Uint8Array([0xff, 0xd8]),
    new Uint8Array([0xff, 0xdb, 0, 67, 0, ...new Array(64).fill(1)]),
    new Uint8Array([0xff, 0xc0, 0, 11, 8, height >> 8, height & 0xff, width >> 8, width & 0xff, 1, 1, 0x11, 0]),
    new Uint8Array(huffman(0)),
    new Uint8Array(huffman(1)),
    new Uint8Array([0xff, 0xda, 0, 8, 1, 1, 0x00, 0, 63, 0]),
    scan,
    new Uint8Array([0xff, 0xd9]),
  ]);
}

/** VP8L (lossless WebP, at most 16384 a side): no transforms, and every prefix code has one symbol. */
function flatWebp(width: number, height: number): Uint8Array<ArrayBuffer> {
  const bits: [number, number][] = [[0x2f, 8], [width - 1, 14], [height - 1, 14], [0, 1], [0, 3]];
  // No transform, no colour cache, no meta prefix codes.
  bits.push([0, 1], [0, 1], [0, 1]);
  // Green, red, blue, alpha: simple codes with one 8-bit symbol; distance: one 1-bit symbol.
  for (const value of [GREY, GREY, GREY, 0xff]) bits.push([1, 1], [0, 1], [1, 1], [value, 8]);
  bits.push([1, 1], [0, 1], [0, 1], [0, 1]);
  const data: number[] = [];
  let acc = 0, used = 0;
  for (const [value, count] of bits) {
    for (let i = 0; i < count; i++) {
      acc |= ((value >> i) & 1) << used;
      if (++used === 8) {
        data.push(acc);
        acc = used = 0;
      }
    }
  }
  if (used > 0) data.push(acc);
  if (data.length % 2) data.push(0);
  const out = new Uint8Array(20 + data.length);
  const view = new DataView(out.buffer);
  out.set(new TextEncoder().encode("RIFF"), 0);
  view.setUint32(4, 12 + data.length, true);
  out.set(new TextEncoder().encode("WEBPVP8L"), 8);
  view.setUint32(16, data.length, true);
  out.set(data, 20);
  return out;
}
