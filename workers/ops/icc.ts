/**
 * What a source file says about its colours: the embedded ICC profile
 * (JPEG APP2 ICC_PROFILE segments, PNG iCCP, WebP ICCP, the primary image's
 * `colr` of type `prof`/`rICC` in an AVIF or HEIC), and for JPEGs the number of components and whether an
 * Adobe APP14 segment is present (Photoshop's CMYK JPEGs store inverted
 * values, and by convention the marker is what says so).
 *
 * @module
 */
import type { SourceFormat } from "../../protocol/plan.ts";
import { concat } from "../../shared/bytes.ts";
import { isStartOfFrame, walkJpegSegments } from "../../shared/jpeg_segments.ts";
import { MAX_PROFILE_BYTES, profileTooLarge } from "../../shared/decode_limits.ts";
import { walkPngChunks } from "./png_chunks.ts";
import { HEIF_HEADER_LIMIT, HeifCorrupt, primaryIcc, readHeifMeta } from "../../shared/heif_meta.ts";
import { inflateSync } from "node:zlib";

/** Colour facts of a source. */
export interface ColourInfo {
  /** The embedded ICC profile, if any. */
  icc?: Uint8Array;
  /** JPEG: 4 for CMYK or YCCK. */
  components?: number;
  /** JPEG: an Adobe APP14 segment is present. */
  adobe?: boolean;
}

const ascii = (b: Uint8Array, at: number, n: number) => String.fromCharCode(...b.subarray(at, at + n));

/**
 * Reads the colour facts of a source without decoding it. A profile over
 * {@linkcode MAX_PROFILE_BYTES} (inflated, for PNG) fails with METADATA_TOO_LARGE.
 */
export function colourInfo(bytes: Uint8Array, format: SourceFormat): ColourInfo {
  const info = readColourInfo(bytes, format);
  if (info.icc && info.icc.length > MAX_PROFILE_BYTES) throw profileTooLarge(NAMES[format] ?? format, false);
  return info;
}

const NAMES: Partial<Record<SourceFormat, string>> = { jpeg: "JPEG", webp: "WebP", avif: "AVIF", heic: "HEIC" };

function readColourInfo(bytes: Uint8Array, format: SourceFormat): ColourInfo {
  switch (format) {
    case "jpeg":
      return jpegInfo(bytes);
    case "png":
      return { icc: pngIcc(bytes) };
    case "webp":
      return { icc: webpIcc(bytes) };
    case "avif":
    case "heic":
      return { icc: heifIcc(bytes) };
    default:
      return {};
  }
}

function jpegInfo(bytes: Uint8Array): ColourInfo {
  const chunks: Uint8Array[] = [];
  let adobe = false;
  let components: number | undefined;
  walkJpegSegments(bytes, ({ marker, body }) => {
    if (marker === 0xe2 && body.length > 14 && ascii(body, 0, 12) === "ICC_PROFILE\0") {
      // Sequence number (1-based) then count; the payload follows.
      chunks[body[12] - 1] = body.subarray(14);
    } else if (marker === 0xee && body.length >= 5 && ascii(body, 0, 5) === "Adobe") {
      adobe = true;
    } else if (isStartOfFrame(marker)) {
      components = body[5];
    }
  });
  const parts = chunks.filter((c) => c !== undefined);
  const icc = parts.length > 0 && parts.length === chunks.length ? concat(parts) : undefined;
  return { icc, components, adobe };
}

function pngIcc(bytes: Uint8Array): Uint8Array | undefined {
  let icc: Uint8Array | undefined;
  walkPngChunks(bytes, ({ type, data }) => {
    if (type !== "iCCP") return type === "IDAT";
    // Profile name, NUL, compression method 0 (zlib), then the profile.
    const nul = data.indexOf(0);
    if (nul >= 0 && data[nul + 1] === 0) icc = inflateProfile(data.subarray(nul + 2));
    return true;
  });
  return icc;
}

/**
 * zlib data, inflated up to the profile cap: a bomb stops there, in
 * milliseconds and without the memory it asks for, and fails the job.
 * Corrupt data is no profile, as before.
 */
function inflateProfile(data: Uint8Array): Uint8Array | undefined {
  try {
    return inflateSync(data, { maxOutputLength: MAX_PROFILE_BYTES });
  } catch (err) {
    if ((err as { code?: string }).code === "ERR_BUFFER_TOO_LARGE") throw profileTooLarge("PNG", true);
    return undefined;
  }
}

function webpIcc(bytes: Uint8Array): Uint8Array | undefined {
  if (ascii(bytes, 12, 4) !== "VP8X" || !(bytes[20] & 0x20)) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = 12; at + 8 <= bytes.length;) {
    const size = view.getUint32(at + 4, true);
    if (ascii(bytes, at, 4) === "ICCP") return bytes.subarray(at + 8, Math.min(bytes.length, at + 8 + size));
    at += 8 + size + (size & 1);
  }
  return undefined;
}

/** The primary image's `colr` profile (a grid's, else its first tile's); none when the meta box cannot be read. */
function heifIcc(bytes: Uint8Array): Uint8Array | undefined {
  const head = bytes.subarray(0, Math.min(bytes.length, HEIF_HEADER_LIMIT));
  try {
    const meta = readHeifMeta(head, () => {
      throw new HeifCorrupt("cut short");
    });
    return meta && primaryIcc(head, meta);
  } catch (err) {
    if (err instanceof HeifCorrupt || err instanceof RangeError) return undefined;
    throw err;
  }
}
