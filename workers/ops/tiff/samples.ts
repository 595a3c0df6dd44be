/**
 * A decoded TIFF strip or tile (its samples as the file stores them) into
 * the image's 8-bit RGBA: grey (MinIsWhite inverted), palette, RGB, and
 * CMYK (left as CMYK for toSrgb's profile), 1 to 16 bits a sample,
 * interleaved or one plane at a time. 16-bit samples are rounded to 8;
 * associated alpha is undone over the whole image once every block is in.
 *
 * @module
 */
import { Photometric, type TiffPage } from "../../../shared/tiff_page.ts";

/** Where a block goes in the image, and which of its samples it holds. */
export interface Block {
  /** The decoded samples, `rowBytes` a row. */
  data: Uint8Array;
  rowBytes: number;
  /** The block's place and size in the image, clipped to it. */
  x: number;
  y: number;
  width: number;
  height: number;
  /** Separate planes: the sample this block holds; -1 when it holds every sample. */
  plane: number;
}

/** The image being filled: RGBA, and what the page's samples mean. */
export interface Canvas {
  data: Uint8ClampedArray;
  width: number;
  page: TiffPage;
  little: boolean;
  /** The palette as 8-bit RGB triples (photometric 3). */
  palette?: Uint8Array;
}

/**
 * Writes a block's samples into the canvas.
 *
 * @example
 * ```ts
 * writeBlock(canvas, { data, rowBytes, x: 0, y: 0, width, height: rows, plane: -1 });
 * ```
 */
export function writeBlock(canvas: Canvas, block: Block): void {
  const { page } = canvas;
  const samples = block.plane < 0 ? page.samplesPerPixel : 1;
  const row8 = page.bits === 8 ? undefined : new Uint8Array(block.width * samples);
  for (let r = 0; r < block.height; r++) {
    const from = r * block.rowBytes;
    let values: Uint8Array;
    if (row8) {
      unpackRow(block.data, from, row8, page.bits, canvas.little, page.photometric === Photometric.palette);
      values = row8;
    } else {
      values = block.data.subarray(from, from + block.width * samples);
    }
    const to = ((block.y + r) * canvas.width + block.x) * 4;
    if (block.plane < 0) writePixels(canvas, values, to, block.width);
    else writePlane(canvas, values, to, block.width, block.plane);
  }
}

/** Samples of one row as 8-bit values: 16-bit ones rounded, 1-4-bit ones scaled to 255 (palette indices kept). */
function unpackRow(src: Uint8Array, from: number, out: Uint8Array, bits: number, little: boolean, index: boolean) {
  if (bits === 16) {
    const [hi, lo] = little ? [1, 0] : [0, 1];
    for (let i = 0, at = from; i < out.length; i++, at += 2) {
      out[i] = (((src[at + hi] << 8) | src[at + lo]) * 255 + 32767) / 65535;
    }
    return;
  }
  const max = (1 << bits) - 1;
  const scale = index ? 1 : 255 / max;
  const perByte = 8 / bits;
  for (let i = 0; i < out.length; i++) {
    const byte = src[from + Math.floor(i / perByte)];
    const shift = 8 - bits * (i % perByte + 1);
    out[i] = ((byte >> shift) & max) * scale + 0.5;
  }
}

function writePixels(canvas: Canvas, v: Uint8Array, to: number, width: number): void {
  const { data, page, palette } = canvas;
  const spp = page.samplesPerPixel;
  const alpha = page.alpha !== "none";
  switch (page.photometric) {
    case Photometric.minIsWhite:
    case Photometric.minIsBlack: {
      const flip = page.photometric === Photometric.minIsWhite ? 255 : 0;
      for (let x = 0, s = 0, o = to; x < width; x++, s += spp, o += 4) {
        const g = flip ^ v[s];
        data[o] = g;
        data[o + 1] = g;
        data[o + 2] = g;
        data[o + 3] = alpha ? v[s + 1] : 255;
      }
      return;
    }
    case Photometric.palette: {
      const map = palette!;
      for (let x = 0, s = 0, o = to; x < width; x++, s += spp, o += 4) {
        const p = v[s] * 3;
        data[o] = map[p];
        data[o + 1] = map[p + 1];
        data[o + 2] = map[p + 2];
        data[o + 3] = alpha ? v[s + 1] : 255;
      }
      return;
    }
    case Photometric.separated:
      // CMYK stays CMYK here: toSrgb converts it through a profile.
      for (let x = 0, s = 0, o = to; x < width; x++, s += spp, o += 4) {
        data[o] = v[s];
        data[o + 1] = v[s + 1];
        data[o + 2] = v[s + 2];
        data[o + 3] = v[s + 3];
      }
      return;
    default:
      for (let x = 0, s = 0, o = to; x < width; x++, s += spp, o += 4) {
        data[o] = v[s];
        data[o + 1] = v[s + 1];
        data[o + 2] = v[s + 2];
        data[o + 3] = alpha ? v[s + 3] : 255;
      }
  }
}

/** One sample of each pixel (a separate plane): colour planes to their channel, the alpha plane to alpha. */
function writePlane(canvas: Canvas, v: Uint8Array, to: number, width: number, plane: number): void {
  const { data, page, palette } = canvas;
  const single = page.colourSamples === 1;
  if (plane === 0 && single) {
    const flip = page.photometric === Photometric.minIsWhite ? 255 : 0;
    for (let x = 0, o = to; x < width; x++, o += 4) {
      if (palette) {
        const p = v[x] * 3;
        data[o] = palette[p];
        data[o + 1] = palette[p + 1];
        data[o + 2] = palette[p + 2];
      } else {
        data[o] = data[o + 1] = data[o + 2] = flip ^ v[x];
      }
    }
    return;
  }
  const channel = plane < page.colourSamples ? plane : plane === page.colourSamples && page.alpha !== "none" ? 3 : -1;
  if (channel < 0) return;
  for (let x = 0, o = to + channel; x < width; x++, o += 4) data[o] = v[x];
}

/**
 * Undoes associated (premultiplied) alpha in place, as ImageMagick and
 * libvips read such a TIFF.
 *
 * @example
 * ```ts
 * unpremultiply(rgba);
 * ```
 */
export function unpremultiply(data: Uint8ClampedArray): void {
  for (let i = 0; i < data.length; i += 4) {
    const a = data[i + 3];
    if (a === 255 || a === 0) continue;
    data[i] = data[i] * 255 / a + 0.5;
    data[i + 1] = data[i + 1] * 255 / a + 0.5;
    data[i + 2] = data[i + 2] * 255 / a + 0.5;
  }
}
