/**
 * A GIF's first frame to RGBA on its logical screen, in TypeScript.
 *
 * libnsgif, as @cwasm/nsgif builds it, refuses any image over 48 MiB of
 * RGBA (12.6 MP, so a 4000x4000 GIF) as out of memory, a limit compiled
 * into its WebAssembly. Only the first frame is ever shown (gif_frame.ts
 * cuts it out), so what is needed is one LZW decode and a palette lookup:
 * this file, which needs the RGBA and one byte a frame pixel, outside
 * WebAssembly, and decodes about as fast.
 *
 * As libnsgif does for a first frame: the screen starts transparent, the
 * frame is drawn at its offset (one that goes past the screen is
 * refused), its transparent
 * index leaves the screen as it is, and an interlaced frame's rows are put
 * in their places. A frame whose data ends early keeps what it has (the
 * rest stays transparent); a code that no table holds is corrupt.
 *
 * @module
 */
import type { Pixels } from "./pixels.ts";

/** The GIF is not one the decoder can read: its data are corrupt. */
export class GifCorruptError extends Error {
  constructor(why: string) {
    super(`the GIF decoder rejected the data as corrupt: ${why}`);
  }
}

const MAX_CODES = 4096;

/**
 * The first frame of `bytes` (a GIF, as firstGifFrame gives it) on the
 * logical screen.
 *
 * @example
 * ```ts
 * const pixels = decodeGifFrame(firstGifFrame(bytes).bytes);
 * ```
 */
export function decodeGifFrame(bytes: Uint8Array): Pixels {
  if (bytes.length < 13 || !/^GIF8[79]a$/.test(String.fromCharCode(...bytes.subarray(0, 6)))) {
    throw new GifCorruptError("no GIF signature");
  }
  const width = bytes[6] | (bytes[7] << 8);
  const height = bytes[8] | (bytes[9] << 8);
  const tableSize = (packed: number) => (packed & 0x80 ? 3 << ((packed & 7) + 1) : 0);
  let palette = bytes.subarray(13, 13 + tableSize(bytes[10]));
  let transparent = -1;
  let at = 13 + palette.length;
  // Each round moves on by at least one byte.
  while (at < bytes.length) {
    const introducer = bytes[at];
    if (introducer === 0x21) {
      // A graphic control extension: 21 F9 04 packed delay(2) index 00.
      if (bytes[at + 1] === 0xf9 && bytes[at + 2] >= 4 && bytes[at + 3] & 1) transparent = bytes[at + 6];
      at = skipSubBlocks(bytes, at + 2);
    } else if (introducer === 0x2c) {
      if (at + 11 > bytes.length) break;
      const view = new DataView(bytes.buffer, bytes.byteOffset + at);
      const frame = {
        left: view.getUint16(1, true),
        top: view.getUint16(3, true),
        width: view.getUint16(5, true),
        height: view.getUint16(7, true),
        interlaced: (bytes[at + 9] & 0x40) !== 0,
      };
      // libnsgif grew the screen to fit such a frame, which then failed the header's size; refusing it also bounds
      // the indices by the screen, which the header check bounded.
      if (frame.left + frame.width > width || frame.top + frame.height > height) {
        throw new GifCorruptError(
          `its first frame (${frame.width}x${frame.height} at ${frame.left},${frame.top}) goes past its ${width}x${height} screen`,
        );
      }
      const local = tableSize(bytes[at + 9]);
      if (local) palette = bytes.subarray(at + 10, at + 10 + local);
      const codeSize = bytes[at + 10 + local];
      if (codeSize < 1 || codeSize > 11) throw new GifCorruptError(`an LZW code size of ${codeSize}`);
      const indices = new Uint8Array(frame.width * frame.height);
      const filled = lzwDecode(joinSubBlocks(bytes, at + 11 + local), codeSize, indices);
      const data = new Uint8ClampedArray(width * height * 4);
      draw(data, width, frame, indices, filled, palette, transparent);
      return { data, width, height };
    } else {
      break;
    }
  }
  throw new GifCorruptError("it has no image");
}

/** Where the data sub-blocks starting at `at` end (after the zero-length one), or the end of `bytes`. */
function skipSubBlocks(bytes: Uint8Array, at: number): number {
  while (at < bytes.length && bytes[at] !== 0) at += bytes[at] + 1;
  return at + 1;
}

/** The data sub-blocks starting at `at`, joined. */
function joinSubBlocks(bytes: Uint8Array, at: number): Uint8Array {
  const joined = new Uint8Array(Math.max(0, bytes.length - at));
  let length = 0;
  while (at < bytes.length && bytes[at] !== 0) {
    const block = bytes.subarray(at + 1, Math.min(at + 1 + bytes[at], bytes.length));
    joined.set(block, length);
    length += block.length;
    at += bytes[at] + 1;
  }
  return joined.subarray(0, length);
}

/**
 * Decodes the LZW stream `data` into `out` and says how many indices it
 * gave (fewer than `out` holds when the data end early).
 *
 * @example
 * ```ts
 * const filled = lzwDecode(data, 8, new Uint8Array(width * height));
 * ```
 */
export function lzwDecode(data: Uint8Array, minSize: number, out: Uint8Array): number {
  const clear = 1 << minSize;
  const end = clear + 1;
  const prefix = new Uint16Array(MAX_CODES);
  const suffix = new Uint8Array(MAX_CODES);
  const first = new Uint8Array(MAX_CODES);
  const length = new Uint16Array(MAX_CODES);
  for (let code = 0; code < clear; code++) {
    suffix[code] = first[code] = code;
    length[code] = 1;
  }
  let size = minSize + 1;
  let mask = (1 << size) - 1;
  let next = end + 1;
  let previous = -1;
  let buffer = 0, bits = 0, at = 0, written = 0;
  const total = out.length;
  while (written < total) {
    while (bits < size) {
      if (at >= data.length) return written;
      buffer |= data[at++] << bits;
      bits += 8;
    }
    const code = buffer & mask;
    buffer >>>= size;
    bits -= size;
    if (code === clear) {
      size = minSize + 1;
      mask = (1 << size) - 1;
      next = end + 1;
      previous = -1;
      continue;
    }
    if (code === end) break;
    if (previous === -1) {
      if (code >= clear) throw new GifCorruptError(`code ${code} before any string`);
      out[written++] = code;
      previous = code;
      continue;
    }
    let head: number;
    if (code < next) {
      head = first[code];
      written = putString(out, written, code, prefix, suffix, length);
    } else if (code === next) {
      // The string just being defined: the previous one and its own first index.
      head = first[previous];
      written = putString(out, written, previous, prefix, suffix, length);
      if (written < total) out[written++] = head;
    } else {
      throw new GifCorruptError(`code ${code} is not yet defined`);
    }
    if (next < MAX_CODES) {
      prefix[next] = previous;
      suffix[next] = head;
      first[next] = first[previous];
      length[next] = length[previous] + 1;
      next++;
      if (next > mask && size < 12) {
        size++;
        mask = (1 << size) - 1;
      }
    }
    previous = code;
  }
  return written;
}

/** Writes `code`'s string at `at` (from its last index back), clipped to `out`; returns the position after it. */
function putString(
  out: Uint8Array,
  at: number,
  code: number,
  prefix: Uint16Array,
  suffix: Uint8Array,
  length: Uint16Array,
): number {
  const stop = at + length[code];
  for (let i = stop - 1; i >= at; i--) {
    if (i < out.length) out[i] = suffix[code];
    code = prefix[code];
  }
  return Math.min(stop, out.length);
}

/** Where a frame goes on the screen, and whether its rows come interlaced. */
export interface FrameRect {
  left: number;
  top: number;
  width: number;
  height: number;
  interlaced: boolean;
}

/** The frame's row that the `n`th decoded row is: interlaced frames come in four passes. */
function rowOrder(frame: FrameRect): (n: number) => number {
  if (!frame.interlaced) return (n) => n;
  const h = frame.height;
  const pass1 = Math.ceil(h / 8), pass2 = Math.ceil((h - 4) / 8), pass3 = Math.ceil((h - 2) / 4);
  return (n) => {
    if (n < pass1) return n * 8;
    n -= pass1;
    if (n < pass2) return 4 + n * 8;
    n -= pass2;
    if (n < pass3) return 2 + n * 4;
    return 1 + (n - pass3) * 2;
  };
}

/**
 * The first `filled` decoded indices of `frame` as RGBA on the screen;
 * the transparent index leaves the screen as it is.
 *
 * @example
 * ```ts
 * draw(canvas.data, canvas.width, frame, indices, filled, palette, -1);
 * ```
 */
export function draw(
  data: Uint8ClampedArray,
  width: number,
  frame: FrameRect,
  indices: Uint8Array,
  filled: number,
  palette: Uint8Array,
  transparent: number,
): void {
  const colours = palette.length / 3;
  const rowOf = rowOrder(frame);
  for (let n = 0; n * frame.width < filled; n++) {
    const y = frame.top + rowOf(n);
    const from = n * frame.width;
    const count = Math.min(frame.width, filled - from);
    let o = (y * width + frame.left) * 4;
    for (let x = 0; x < count; x++, o += 4) {
      const index = indices[from + x];
      if (index === transparent) continue;
      // An index past the palette is drawn black, as libnsgif does.
      if (index < colours) {
        data[o] = palette[index * 3];
        data[o + 1] = palette[index * 3 + 1];
        data[o + 2] = palette[index * 3 + 2];
      }
      data[o + 3] = 255;
    }
  }
}
