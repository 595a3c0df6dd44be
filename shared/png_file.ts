/**
 * The frame of a PNG file around its compressed rows: signature, IHDR,
 * one IDAT, IEND. Written by the placeholder and by the workers' encoder;
 * chunks and CRCs read by the damage check.
 *
 * @module
 */
import { crc32 } from "node:zlib";

export { crc32 };

/** The eight bytes every PNG starts with. */
export const PNG_SIGNATURE: readonly number[] = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** IHDR's colour types for the four layouts imgserve writes, all 8 bits a sample. */
export const PngColour = { grey: 0, rgb: 2, greyAlpha: 4, rgba: 6 } as const;
/** One of {@linkcode PngColour}'s values. */
export type PngColourType = typeof PngColour[keyof typeof PngColour];

/**
 * An 8-bit, non-interlaced PNG of `width` x `height` in `colourType`, whose
 * filtered rows `idat` holds as one zlib stream.
 *
 * @example
 * ```ts
 * const png = pngFile(1, 1, PngColour.grey, deflateSync(new Uint8Array([0, 128])));
 * ```
 */
export function pngFile(
  width: number,
  height: number,
  colourType: PngColourType,
  idat: Uint8Array,
): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(PNG_SIGNATURE.length + 25 + 12 + idat.length + 12);
  out.set(PNG_SIGNATURE);
  const view = new DataView(out.buffer);
  let at = PNG_SIGNATURE.length;
  const chunk = (type: string, fill: (dataAt: number) => number) => {
    out.set(new TextEncoder().encode(type), at + 4);
    const length = fill(at + 8);
    view.setUint32(at, length);
    view.setUint32(at + 8 + length, crc32(out.subarray(at + 4, at + 8 + length)));
    at += 12 + length;
  };
  chunk("IHDR", (dataAt) => {
    view.setUint32(dataAt, width);
    view.setUint32(dataAt + 4, height);
    out.set([8, colourType, 0, 0, 0], dataAt + 8); // depth, colour, deflate, adaptive filters, no interlace
    return 13;
  });
  chunk("IDAT", (dataAt) => {
    out.set(idat, dataAt);
    return idat.length;
  });
  chunk("IEND", () => 0);
  return out;
}

/** One PNG chunk: length, type, `data` and its CRC. */
export function pngChunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  out.set(new TextEncoder().encode(type), 4);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}
