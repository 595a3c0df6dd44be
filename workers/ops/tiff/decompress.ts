/**
 * A TIFF strip's or tile's bytes decompressed into a buffer of exactly the
 * size its rows need: uncompressed, LZW, PackBits or Deflate. More data than
 * that is a bomb, stopped at that size; less is damage the caller reports.
 *
 * @module
 */
import { inflateSync } from "node:zlib";
import { ImgserveError } from "../../../protocol/error_codes.ts";
import { Compression } from "../../../shared/tiff_page.ts";
import { decodeLzw } from "./lzw.ts";
import { decodePackBits } from "./packbits.ts";

/** A strip or tile whose zlib data is cut short or corrupt. */
export class DeflateError extends Error {}

/**
 * The block's bytes decompressed into exactly `size` bytes (zeros past what
 * the data gave), and how many it gave.
 *
 * @example
 * ```ts
 * const [rows, given] = decompress(strip, Compression.lzw, rowBytes * rowCount, "strip 0");
 * ```
 */
export function decompress(src: Uint8Array, compression: number, size: number, what: string): [Uint8Array, number] {
  switch (compression) {
    case Compression.none: {
      const data = new Uint8Array(size);
      data.set(src.subarray(0, size));
      return [data, Math.min(size, src.length)];
    }
    case Compression.lzw: {
      const data = new Uint8Array(size);
      return [data, decodeLzw(src, data)];
    }
    case Compression.packBits: {
      const data = new Uint8Array(size);
      return [data, decodePackBits(src, data)];
    }
    default:
      return inflateBlock(src, size, what);
  }
}

/** zlib data inflated up to `size`: more is a bomb (TIFF_STRIP_TOO_LARGE); cut data gives what it has. */
function inflateBlock(src: Uint8Array, size: number, what: string): [Uint8Array, number] {
  let out: Uint8Array;
  try {
    out = inflateSync(src, { maxOutputLength: Math.max(size, 1) });
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === "ERR_BUFFER_TOO_LARGE") {
      throw new ImgserveError(
        "TIFF_STRIP_TOO_LARGE",
        `the TIFF's ${what} inflates to more than the ${size} bytes its rows hold (stopped there)`,
      );
    }
    // Cut or corrupt: what inflates before the fault is kept for "none".
    const partial = inflatePartial(src, size);
    const data = new Uint8Array(size);
    data.set(partial.subarray(0, size));
    if (partial.length >= size) return [data, size];
    throw new DeflateError(`its zlib data is cut short or corrupt (${(err as Error).message})`);
  }
  if (out.length === size) return [out, size];
  const data = new Uint8Array(size);
  data.set(out);
  return [data, out.length];
}

function inflatePartial(src: Uint8Array, size: number): Uint8Array {
  try {
    return inflateSync(src, { maxOutputLength: Math.max(size, 1), finishFlush: 2 /* Z_SYNC_FLUSH */ });
  } catch {
    return new Uint8Array(0);
  }
}
