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
    const found = nextMarker(bytes, at);
    if (typeof found !== "number") return found;
    at = found;
    const marker = bytes[at + 1];
    if (marker === 0xd9 || marker === 0xda) return "image-data";
    const length = (bytes[at + 2] << 8) | bytes[at + 3];
    const body = bytes.subarray(at + 4, Math.min(bytes.length, at + 2 + length));
    if (visit({ marker, at, length, body }) === true) return "stopped";
    at += 2 + length;
  }
}

/**
 * Where the next marker that heads a segment (or is SOS or EOI) is, from
 * `at` on, past fill bytes and the markers that stand alone; or why there
 * is none.
 */
function nextMarker(bytes: Uint8Array, at: number): number | "truncated" | "no-marker" {
  while (true) {
    if (at + 4 > bytes.length) return "truncated";
    if (bytes[at] !== 0xff) return "no-marker";
    const marker = bytes[at + 1];
    if (marker === 0xff) at++;
    else if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) at += 2;
    else return at;
  }
}

/**
 * Counts a JPEG's scans (SOS segments) up to its EOI or the end of
 * `bytes`, stopping once the count passes `stopAbove`. Cheap: inside a
 * scan's entropy-coded data every 0xFF is followed by 0x00 (stuffing) or a
 * restart marker, so the next segment is found with a byte search.
 *
 * @example
 * ```ts
 * countJpegScans(progressiveBytes); // 10 for libjpeg's default progression
 * ```
 */
export function countJpegScans(bytes: Uint8Array, stopAbove = Infinity): number {
  let scans = 0;
  for (let at = nextMarker(bytes, 2); typeof at === "number"; at = nextMarker(bytes, at)) {
    const marker = bytes[at + 1];
    if (marker === 0xd9) break;
    at += 2 + ((bytes[at + 2] << 8) | bytes[at + 3]);
    if (marker !== 0xda) continue;
    if (++scans > stopAbove) break;
    at = endOfEntropyData(bytes, at);
  }
  return scans;
}

/** Where the marker after a scan's entropy-coded data starting at `at` is (the length of `bytes` if none). */
function endOfEntropyData(bytes: Uint8Array, at: number): number {
  while (true) {
    at = bytes.indexOf(0xff, at);
    if (at < 0 || at + 1 >= bytes.length) return bytes.length;
    const next = bytes[at + 1];
    if (next === 0x00 || (next >= 0xd0 && next <= 0xd7)) at += 2;
    else if (next === 0xff) at++;
    else return at;
  }
}
