/**
 * The one walk over a JPEG's marker segments, from SOI up to its image
 * data. The header reader stops it at the frame header; the worker's
 * colour reader goes on to gather ICC chunks and the Adobe marker.
 *
 * @module
 */

/** One marker segment of a JPEG header. */
export interface JpegSegment {
  /** The marker's second byte: 0xe1 for APP1, 0xc0 for SOF0. */
  marker: number;
  /** Where its 0xFF is in the file. */
  at: number;
  /** Its length field, which counts itself: 2 more than its payload. */
  length: number;
  /** Its payload, cut short where the bytes at hand end. */
  body: Uint8Array;
}

/**
 * Why a walk ended, when the visitor did not stop it: the image data began
 * (SOS or EOI), the bytes ran out before the next marker, or there was no
 * marker where one must be.
 */
export type JpegWalkEnd = "stopped" | "image-data" | "truncated" | "no-marker";

/** Whether a marker starts a frame header (SOF0-SOF15 but DHT, JPG and DAC). */
export function isStartOfFrame(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

/**
 * Calls `visit` with each segment after SOI, in file order, skipping fill
 * bytes and the markers that stand alone (RSTn, TEM, a repeated SOI),
 * until `visit` returns true, the image data begins, or the bytes say no
 * more. Every step moves forward, so the walk ends within the bytes given.
 *
 * @example
 * ```ts
 * const markers: number[] = [];
 * walkJpegSegments(bytes, (segment) => void markers.push(segment.marker)); // "image-data"
 * ```
 */
export function walkJpegSegments(bytes: Uint8Array, visit: (segment: JpegSegment) => boolean | void): JpegWalkEnd {
  let at = 2;
  while (true) {
    if (at + 4 > bytes.length) return "truncated";
    if (bytes[at] !== 0xff) return "no-marker";
    const marker = bytes[at + 1];
    if (marker === 0xff) {
      at++;
      continue;
    }
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      at += 2;
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) return "image-data";
    const length = (bytes[at + 2] << 8) | bytes[at + 3];
    const body = bytes.subarray(at + 4, Math.min(bytes.length, at + 2 + length));
    if (visit({ marker, at, length, body }) === true) return "stopped";
    at += 2 + length;
  }
}
