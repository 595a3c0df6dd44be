/**
 * Dimensions of WebP, GIF and BMP sources from their first bytes: WebP's
 * VP8/VP8L/VP8X chunk, GIF's logical screen, BMP's info header (AVIF and
 * HEIC: heif_header.ts). Like the PNG and JPEG readers, nothing here
 * decodes pixels.
 *
 * @module
 */
import { ImgserveError } from "../../protocol/error_codes.ts";
import type { ImageHeader } from "../../protocol/plan.ts";

/** Stops reading: the prefix is too short (`short`) or the file is not what it claims. */
type Short = () => never;

const corrupt = (format: string, why: string): never => {
  throw new ImgserveError("SOURCE_NOT_IMAGE", `the ${format} is corrupt: ${why}`);
};

const ascii = (bytes: Uint8Array, at: number, n: number) => String.fromCharCode(...bytes.subarray(at, at + n));

/** RIFF "WEBP": the first chunk says which of the three layouts it is. */
export function readWebp(bytes: Uint8Array, short: Short): ImageHeader {
  if (bytes.length < 30) short();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const chunk = ascii(bytes, 12, 4);
  const header = (width: number, height: number, hasAlpha: boolean): ImageHeader => {
    if (width < 1 || height < 1) corrupt("WebP", "its header gives a zero dimension");
    return { format: "webp", width, height, orientation: 1, hasAlpha };
  };
  if (chunk === "VP8 ") {
    // Frame tag (3 bytes), start code 9d 01 2a, then 14-bit sides.
    if (bytes[23] !== 0x9d || bytes[24] !== 0x01 || bytes[25] !== 0x2a) corrupt("WebP", "bad VP8 start code");
    return header(view.getUint16(26, true) & 0x3fff, view.getUint16(28, true) & 0x3fff, false);
  }
  if (chunk === "VP8L") {
    if (bytes[20] !== 0x2f) corrupt("WebP", "bad VP8L signature");
    const bits = view.getUint32(21, true);
    return header((bits & 0x3fff) + 1, ((bits >>> 14) & 0x3fff) + 1, ((bits >>> 28) & 1) === 1);
  }
  if (chunk === "VP8X") {
    const flags = bytes[20];
    if (flags & 0x02) {
      throw new ImgserveError("SOURCE_FORMAT_UNSUPPORTED", "animated WebP is not supported; use a still image");
    }
    const width = (bytes[24] | (bytes[25] << 8) | (bytes[26] << 16)) + 1;
    const height = (bytes[27] | (bytes[28] << 8) | (bytes[29] << 16)) + 1;
    return header(width, height, (flags & 0x10) !== 0);
  }
  return corrupt("WebP", `unknown first chunk "${chunk.replace(/[^\x20-\x7e]/g, "?")}"`);
}

/** GIF87a/89a: the logical screen, which the first frame is drawn on. */
export function readGif(bytes: Uint8Array, short: Short): ImageHeader {
  if (bytes.length < 10) short();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = ascii(bytes, 0, 6);
  if (version !== "GIF87a" && version !== "GIF89a") corrupt("GIF", `unknown version "${version}"`);
  const width = view.getUint16(6, true);
  const height = view.getUint16(8, true);
  if (width < 1 || height < 1) corrupt("GIF", "its logical screen has a zero dimension");
  // Transparency is only known from a later extension block.
  return { format: "gif", width, height, orientation: 1, hasAlpha: true };
}

/** BMP: the info header after the 14-byte file header (OS/2 core header too). */
export function readBmp(bytes: Uint8Array, short: Short): ImageHeader {
  if (bytes.length < 30) short();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const infoSize = view.getUint32(14, true);
  let width: number, height: number, bpp: number;
  if (infoSize === 12) {
    width = view.getUint16(18, true);
    height = view.getUint16(20, true);
    bpp = view.getUint16(24, true);
  } else if (infoSize >= 40 && infoSize <= 124) {
    width = view.getInt32(18, true);
    // Negative: stored top-down.
    height = Math.abs(view.getInt32(22, true));
    bpp = view.getUint16(28, true);
  } else {
    return corrupt("BMP", `unknown info header size ${infoSize}`);
  }
  if (width < 1 || height < 1) corrupt("BMP", "its header gives a zero or negative dimension");
  return { format: "bmp", width, height, orientation: 1, hasAlpha: bpp === 32 };
}

/**
 * Stored width and height as displayed: EXIF orientations 5-8 turn the
 * image a quarter, exchanging its sides.
 *
 * @example
 * ```ts
 * displayedSize(4000, 3000, 6); // { width: 3000, height: 4000 }
 * ```
 */
export function displayedSize(width: number, height: number, orientation: number): { width: number; height: number } {
  const swap = orientation >= 5 && orientation <= 8;
  return swap ? { width: height, height: width } : { width, height };
}
