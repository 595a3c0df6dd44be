/**
 * What a source file says about its colours: the embedded ICC profile
 * (JPEG APP2 ICC_PROFILE segments, PNG iCCP, WebP ICCP, AVIF `colr` of type
 * `prof`/`rICC`), and for JPEGs the number of components and whether an
 * Adobe APP14 segment is present (Photoshop's CMYK JPEGs store inverted
 * values, and by convention the marker is what says so).
 *
 * @module
 */
import type { SourceFormat } from "../../src/image/header.ts";
import { concat } from "../../src/bytes.ts";
import { isStartOfFrame, walkJpegSegments } from "../../src/image/jpeg_segments.ts";

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

/** Reads the colour facts of a source without decoding it. */
export async function colourInfo(bytes: Uint8Array, format: SourceFormat): Promise<ColourInfo> {
  switch (format) {
    case "jpeg":
      return jpegInfo(bytes);
    case "png":
      return { icc: await pngIcc(bytes) };
    case "webp":
      return { icc: webpIcc(bytes) };
    case "avif":
      return { icc: avifIcc(bytes) };
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

async function pngIcc(bytes: Uint8Array): Promise<Uint8Array | undefined> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = 8; at + 8 <= bytes.length;) {
    const length = view.getUint32(at);
    const type = ascii(bytes, at + 4, 4);
    if (type === "IDAT" || type === "IEND") return undefined;
    if (type === "iCCP") {
      const body = bytes.subarray(at + 8, Math.min(bytes.length, at + 8 + length));
      const nul = body.indexOf(0);
      if (nul < 0 || body[nul + 1] !== 0) return undefined;
      return await inflate(body.subarray(nul + 2));
    }
    at += 12 + length;
  }
  return undefined;
}

/** zlib data, capped: no real profile is over 4 MiB. */
async function inflate(data: Uint8Array): Promise<Uint8Array | undefined> {
  const LIMIT = 4 << 20;
  try {
    const stream = new Blob([data as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream("deflate"));
    const parts: Uint8Array[] = [];
    let size = 0;
    for await (const part of stream) {
      parts.push(part);
      size += part.length;
      if (size > LIMIT) return undefined;
    }
    return concat(parts);
  } catch {
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

/** The first `colr` property holding a profile; AVIFs carry one for their single image. */
function avifIcc(bytes: Uint8Array): Uint8Array | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const limit = Math.min(bytes.length, 1 << 20);
  const walk = (from: number, to: number): Uint8Array | undefined => {
    for (let at = from; at + 8 <= to;) {
      const size = view.getUint32(at);
      const type = ascii(bytes, at + 4, 4);
      if (size < 8 || at + size > bytes.length) return undefined;
      if (type === "meta") return walk(at + 12, at + size);
      if (type === "iprp" || type === "ipco") return walk(at + 8, at + size);
      if (type === "colr") {
        const kind = ascii(bytes, at + 8, 4);
        if (kind === "prof" || kind === "rICC") return bytes.subarray(at + 12, at + size);
      }
      if (type === "mdat") return undefined;
      at += size;
    }
    return undefined;
  };
  return walk(0, limit);
}
