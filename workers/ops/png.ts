/**
 * PNG results with only the channels the image has: RGB from an opaque
 * source, grey when every pixel is neutral, alpha only where the source
 * can have it and some pixel uses it. The rows are filtered here and
 * compressed by zlib (the runtime's own, native).
 *
 * Speed first, as for the other formats' results: each row uses the Up
 * filter (the first row Sub), and zlib codes photos with Huffman codes
 * alone and drawings (long runs of equal bytes) with run-lengths. On the
 * bench's corpus that takes the CPU time of the squoosh PNG encoder used
 * before and gives a fifth fewer bytes; see the README's Performance
 * section.
 *
 * @module
 */
import { constants, deflateSync } from "node:zlib";
import { PngColour, type PngColourType, pngFile } from "../../shared/png_file.ts";
import { isOpaque, type Pixels } from "./pixels.ts";

/** Filtered rows with at least this share of bytes equal to the one before are coded as runs. */
const RUNS_FROM = 0.4;
/** One row in this many is sampled for that share. */
const SAMPLE_EVERY = 8;

const SUB = 1;
const UP = 2;

/**
 * The PNG of the pixels, RGBA in memory, in the smallest colour type that
 * holds them losslessly at 8 bits. `mayHaveAlpha` is the source's word
 * (its header's colour type, alpha flag or format): a JPEG's decoded alpha
 * is not looked at, an opaque PNG with an alpha channel loses it.
 *
 * @example
 * ```ts
 * const png = encodePng(pixels, plan.source.hasAlpha);
 * ```
 */
export function encodePng(pixels: Pixels, mayHaveAlpha: boolean): Uint8Array<ArrayBuffer> {
  const colourType = colourTypeOf(pixels, mayHaveAlpha);
  const rows = filterRows(pixels, CHANNELS[colourType]);
  const strategy = mostlyRuns(rows, pixels.height) ? constants.Z_RLE : constants.Z_HUFFMAN_ONLY;
  return pngFile(pixels.width, pixels.height, colourType, deflateSync(rows, { level: 1, strategy }));
}

/** The smallest 8-bit colour type that holds the pixels as they are. */
export function colourTypeOf(pixels: Pixels, mayHaveAlpha: boolean): PngColourType {
  const alpha = mayHaveAlpha && !isOpaque(pixels);
  if (isGrey(pixels)) return alpha ? PngColour.greyAlpha : PngColour.grey;
  return alpha ? PngColour.rgba : PngColour.rgb;
}

/** Offsets into an RGBA pixel of each colour type's samples. */
const CHANNELS: Record<PngColourType, readonly number[]> = {
  [PngColour.grey]: [0],
  [PngColour.rgb]: [0, 1, 2],
  [PngColour.greyAlpha]: [0, 3],
  [PngColour.rgba]: [0, 1, 2, 3],
};

function isGrey({ data }: Pixels): boolean {
  for (let i = 0; i < data.length; i += 4) if (data[i] !== data[i + 1] || data[i] !== data[i + 2]) return false;
  return true;
}

/** PNG's scanlines of the chosen channels: a filter byte, then each sample minus its predictor. */
function filterRows({ data, width, height }: Pixels, channels: readonly number[]): Uint8Array<ArrayBuffer> {
  const samples = channels.length;
  const rowBytes = width * samples;
  const out = new Uint8Array(height * (rowBytes + 1));
  const stride = width * 4;
  for (let y = 0; y < height; y++) {
    let o = y * (rowBytes + 1);
    out[o++] = y === 0 ? SUB : UP;
    // Sub's predictor is the same sample one pixel left, Up's the one a row above; out of the image it is 0.
    const back = y === 0 ? 4 : stride;
    let at = y * stride;
    if (samples === 4) {
      if (y === 0) out.set(data.subarray(0, 4), o);
      for (let i = y === 0 ? 4 : 0; i < stride; i++) out[o + i] = data[at + i] - data[at + i - back];
      continue;
    }
    if (samples === 3) {
      if (y === 0) {
        out.set(data.subarray(0, 3), o);
        o += 3;
        at += 4;
      }
      for (; at < (y + 1) * stride; at += 4) {
        out[o++] = data[at] - data[at - back];
        out[o++] = data[at + 1] - data[at + 1 - back];
        out[o++] = data[at + 2] - data[at + 2 - back];
      }
      continue;
    }
    for (let x = 0; x < width; x++, at += 4) {
      for (const c of channels) out[o++] = data[at + c] - (y > 0 || x > 0 ? data[at + c - back] : 0);
    }
  }
  return out;
}

/** Whether a sample of the filtered rows repeats bytes enough for run-lengths to beat Huffman codes alone. */
function mostlyRuns(rows: Uint8Array, height: number): boolean {
  const rowBytes = rows.length / height;
  let same = 0, seen = 0;
  for (let y = 0; y < height; y += SAMPLE_EVERY) {
    const end = (y + 1) * rowBytes;
    for (let i = y * rowBytes + 2; i < end; i++) if (rows[i] === rows[i - 1]) same++;
    seen += rowBytes - 2;
  }
  return same >= RUNS_FROM * seen;
}
