/**
 * Image dimensions from the first bytes of a file: PNG IHDR, JPEG SOF (and
 * the EXIF orientation before it), SVG width/height/viewBox; the others'
 * in container_headers.ts and heif_header.ts. Nothing here
 * decodes pixels, so validation stays cheap whatever the image's size.
 *
 * @module
 */
import { ImgserveError } from "../../protocol/error_codes.ts";
import { displayedSize, readBmp, readGif, readWebp } from "./container_headers.ts";
import { readHeif } from "./heif_header.ts";
import { isStartOfFrame, walkJpegSegments } from "../../shared/jpeg_segments.ts";
import { assertFewScans } from "../../shared/decode_limits.ts";
import { PNG_SIGNATURE } from "../../shared/png_file.ts";
import type { ImageHeader } from "../../protocol/plan.ts";
import { readTiff } from "./tiff_header.ts";

/**
 * DCT coefficients per pixel a progressive JPEG keeps while it decodes (its
 * components' sampling, e.g. 1.5 at 4:2:0, 3 at 4:4:4), from the SOF's
 * component list; 3 when the list is cut short.
 */
function coefficientSamples(components: Uint8Array): number {
  const count = components[0] ?? 0;
  if (count === 0 || components.length < 1 + 3 * count) return 3;
  const sampling = Array.from({ length: count }, (_, i) => components[2 + 3 * i]);
  const hMax = Math.max(...sampling.map((s) => s >> 4)), vMax = Math.max(...sampling.map((s) => s & 15));
  if (hMax === 0 || vMax === 0) return 3;
  return sampling.reduce((sum, s) => sum + (s >> 4) * (s & 15) / (hMax * vMax), 0);
}

/** Thrown when more bytes are needed to find the header; `needed`, when known, is how many the file must have. */
export class NeedMoreBytes extends Error {
  readonly needed?: number;
  constructor(needed?: number) {
    super("header not complete");
    this.needed = needed;
  }
}

/**
 * Reads the header from a prefix of the file. Throws {@linkcode NeedMoreBytes}
 * when the prefix is too short and `complete` is false, SOURCE_NOT_IMAGE
 * or SOURCE_FORMAT_UNSUPPORTED when the bytes are not a usable image, and
 * TOO_MANY_SCANS for a JPEG whose prefix already holds too many scans.
 * `page` picks a TIFF's page (0 is the first; PAGE_NOT_FOUND past its last).
 *
 * @example
 * ```ts
 * const { width, height } = readHeader(await Deno.readFile("a.png"), true);
 * ```
 */
export function readHeader(bytes: Uint8Array, complete: boolean, page = 0): ImageHeader {
  const short = () => {
    if (complete) {
      throw new ImgserveError("SOURCE_NOT_IMAGE", "the source is truncated before its image header ends");
    }
    throw new NeedMoreBytes();
  };
  if (bytes.length < 8) return short();
  if (PNG_SIGNATURE.every((b, i) => bytes[i] === b)) return readPng(bytes, short);
  if (bytes[0] === 0xff && bytes[1] === 0xd8) return readJpeg(bytes, short);
  const head = new TextDecoder().decode(bytes.subarray(0, Math.min(bytes.length, 4096)));
  if (/^\s*(\uFEFF)?\s*(<\?xml|<svg|<!--|<!DOCTYPE\s+svg)/i.test(head)) return readSvg(bytes, short);
  // Sizes come before these tags, so the bytes are compared, not the decoded text.
  const tag = (at: number) => String.fromCharCode(...bytes.subarray(at, at + 4));
  if (tag(0) === "RIFF" && bytes.length >= 12 && tag(8) === "WEBP") return readSafely(readWebp, bytes, short);
  if (/^GIF8/.test(head)) return readSafely(readGif, bytes, short);
  if (/^BM/.test(head)) {
    if (bytes.length < 18) return short();
    const info = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(14, true);
    if (info === 12 || (info >= 40 && info <= 124)) return readSafely(readBmp, bytes, short);
  }
  if (tag(4) === "ftyp") return readSafely(readHeif, bytes, short);
  if (/^(II|MM)/.test(head)) {
    return readTiff(bytes, complete, page, (needed) => {
      throw new NeedMoreBytes(needed);
    });
  }
  if (/^RIFF/.test(head)) {
    throw new ImgserveError(
      "SOURCE_FORMAT_UNSUPPORTED",
      "the source image format is not supported; use PNG, JPEG, WebP, AVIF, HEIC, GIF, BMP, TIFF or SVG",
    );
  }
  throw new ImgserveError(
    "SOURCE_NOT_IMAGE",
    "the source is not a PNG, JPEG, WebP, AVIF, HEIC, GIF, BMP, TIFF or SVG image",
  );
}

/**
 * A container reader whose offsets, taken from the file, point past the
 * bytes at hand: more bytes may help while the prefix is short; past that,
 * or once the file is complete, the file is corrupt.
 */
function readSafely(
  read: (bytes: Uint8Array, short: () => never) => ImageHeader,
  bytes: Uint8Array,
  short: () => never,
): ImageHeader {
  try {
    return read(bytes, short);
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    if (bytes.length < 1 << 20) short();
    throw new ImgserveError("SOURCE_NOT_IMAGE", "the image header is corrupt (an offset points past the data)");
  }
}

function readPng(bytes: Uint8Array, short: () => never): ImageHeader {
  if (bytes.length < 33) short();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const type = String.fromCharCode(...bytes.subarray(12, 16));
  if (type !== "IHDR") throw new ImgserveError("SOURCE_NOT_IMAGE", "the PNG has no IHDR chunk first");
  const width = view.getUint32(16);
  const height = view.getUint32(20);
  const colorType = bytes[25];
  if (width === 0 || height === 0) {
    throw new ImgserveError("SOURCE_NOT_IMAGE", "the PNG header gives a zero dimension");
  }
  // Types 4 and 6 carry alpha; the others only through a tRNS chunk.
  const hasAlpha = colorType === 4 || colorType === 6 || hasTrns(bytes);
  return { format: "png", width, height, orientation: 1, hasAlpha };
}

function hasTrns(bytes: Uint8Array): boolean {
  // Only looks in the prefix we have; a tRNS chunk always precedes IDAT.
  const text = String.fromCharCode(...bytes.subarray(0, Math.min(bytes.length, 4096)));
  const idat = text.indexOf("IDAT");
  const trns = text.indexOf("tRNS");
  return trns >= 0 && (idat < 0 || trns < idat);
}

function readJpeg(bytes: Uint8Array, short: () => never): ImageHeader {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let orientation = 1;
  let header: ImageHeader | undefined;
  const end = walkJpegSegments(bytes, ({ marker, at, length, body }) => {
    if (length < 2) throw new ImgserveError("SOURCE_NOT_IMAGE", "the JPEG has a segment of impossible length");
    if (isStartOfFrame(marker)) {
      if (at + 9 > bytes.length) short();
      if (marker !== 0xc0 && marker !== 0xc1 && marker !== 0xc2) {
        throw new ImgserveError(
          "SOURCE_FORMAT_UNSUPPORTED",
          "the JPEG uses a coding (lossless or arithmetic) that is not supported; use baseline or progressive",
        );
      }
      const height = view.getUint16(at + 5);
      const width = view.getUint16(at + 7);
      if (width === 0 || height === 0) {
        throw new ImgserveError("SOURCE_NOT_IMAGE", "the JPEG header gives a zero dimension");
      }
      header = {
        format: "jpeg",
        ...displayedSize(width, height, orientation),
        orientation,
        hasAlpha: false,
        ...(marker === 0xc2 ? { progressiveSamples: coefficientSamples(bytes.subarray(at + 9, at + 2 + length)) } : {}),
      };
      return true;
    }
    if (marker === 0xe1) {
      if (at + 2 + length > bytes.length) short();
      orientation = exifOrientation(body) ?? orientation;
    }
  });
  if (header) {
    // Scans past the bytes at hand are counted again by the worker, on the whole file.
    assertFewScans(bytes);
    return header;
  }
  if (end === "truncated") short();
  if (end === "no-marker") {
    throw new ImgserveError("SOURCE_NOT_IMAGE", "the JPEG is corrupt (no marker where one must be)");
  }
  throw new ImgserveError("SOURCE_NOT_IMAGE", "the JPEG has no frame header before its image data");
}

/** The Orientation tag (0x0112) of an APP1 Exif payload, if present. */
export function exifOrientation(app1: Uint8Array): number | undefined {
  if (app1.length < 14 || String.fromCharCode(...app1.subarray(0, 4)) !== "Exif") return undefined;
  const tiff = app1.subarray(6);
  const view = new DataView(tiff.buffer, tiff.byteOffset, tiff.byteLength);
  const little = tiff[0] === 0x49;
  if (!little && tiff[0] !== 0x4d) return undefined;
  const ifd = view.getUint32(4, little);
  if (ifd + 2 > tiff.length) return undefined;
  const count = view.getUint16(ifd, little);
  for (let i = 0; i < count; i++) {
    const entry = ifd + 2 + i * 12;
    if (entry + 12 > tiff.length) return undefined;
    if (view.getUint16(entry, little) === 0x0112) {
      const value = view.getUint16(entry + 8, little);
      return value >= 1 && value <= 8 ? value : undefined;
    }
  }
  return undefined;
}

const UNIT_PX: Record<string, number> = {
  "": 1,
  px: 1,
  pt: 4 / 3,
  pc: 16,
  mm: 96 / 25.4,
  cm: 96 / 2.54,
  in: 96,
};

function readSvg(bytes: Uint8Array, short: () => never): ImageHeader {
  const text = new TextDecoder().decode(bytes.subarray(0, Math.min(bytes.length, 64 * 1024)));
  const open = /<svg\b([^>]*)>/is.exec(text);
  if (!open) {
    if (bytes.length < 64 * 1024) short();
    throw new ImgserveError("SOURCE_NOT_IMAGE", "the SVG has no <svg> element near its start");
  }
  const attrs = open[1];
  const attr = (name: string) => new RegExp(`(?:^|\\s)${name}\\s*=\\s*["']([^"']*)["']`, "i").exec(attrs)?.[1];
  const viewBox = attr("viewBox")?.trim().split(/[\s,]+/).map(Number);
  const vb = viewBox && viewBox.length === 4 && viewBox.every(Number.isFinite) && viewBox[2] > 0 && viewBox[3] > 0
    ? { w: viewBox[2], h: viewBox[3] }
    : undefined;
  const length = (value: string | undefined, whole: number | undefined): number | undefined => {
    if (value === undefined) return undefined;
    const m = /^\s*([0-9]*\.?[0-9]+(?:e[-+]?[0-9]+)?)\s*(px|pt|pc|mm|cm|in|%)?\s*$/i.exec(value);
    if (!m) return undefined;
    const n = Number(m[1]);
    if (m[2] === "%") return whole === undefined ? undefined : whole * n / 100;
    return n * UNIT_PX[(m[2] ?? "").toLowerCase()];
  };
  let width = length(attr("width"), vb?.w);
  let height = length(attr("height"), vb?.h);
  // resvg's rule: a missing side follows the viewBox's aspect ratio, else 100.
  if (width === undefined && height === undefined) {
    width = vb?.w ?? 100;
    height = vb?.h ?? 100;
  } else if (width === undefined) {
    width = vb ? height! * vb.w / vb.h : 100;
  } else if (height === undefined) {
    height = vb ? width * vb.h / vb.w : 100;
  }
  const w = Math.round(width);
  const h = Math.round(height!);
  if (!(w >= 1 && h >= 1)) throw new ImgserveError("SOURCE_NOT_IMAGE", "the SVG's size is zero or not a number");
  return { format: "svg", width: w, height: h, orientation: 1, hasAlpha: true };
}

/**
 * Refuses SVGs that declare entities: nothing legitimate needs them, and
 * they are how "billion laughs" expansion bombs work.
 */
export function assertSafeSvg(svg: Uint8Array): void {
  const text = new TextDecoder().decode(svg);
  if (/<!ENTITY/i.test(text)) {
    throw new ImgserveError("SOURCE_NOT_IMAGE", "the SVG declares XML entities, which this server refuses");
  }
}
