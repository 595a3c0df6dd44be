/**
 * Caps on what a source may make a decoder do beyond its pixels, each
 * checked before the work it bounds: metadata that inflates (a zlib bomb in
 * a PNG's `iCCP` costs its own size a thousand times over) and a JPEG's
 * scans (each one a pass over every block of the image, however few bytes
 * it takes).
 *
 * @module
 */
import { ImgserveError } from "../protocol/error_codes.ts";
import { countJpegScans } from "./jpeg_segments.ts";

/**
 * An embedded ICC profile's size, inflated: real profiles are a few KiB,
 * printer profiles with large tables a few MiB. Far below a worker's
 * `--worker-memory`, and counted in each plan's memory (protocol/plan_memory.ts).
 */
export const MAX_PROFILE_BYTES = 4 << 20;

/**
 * Scans a JPEG may have. Encoders write 1 to 4 scans for a baseline JPEG
 * and about 10 for a progressive one (libjpeg's and mozjpeg's scripts);
 * each repeated scan costs a pass over the whole image while taking only a
 * few bytes, which libjpeg-turbo warns of (djpeg `-maxscans`).
 */
export const MAX_JPEG_SCANS = 100;

/** The error for a profile over {@linkcode MAX_PROFILE_BYTES}. */
export function profileTooLarge(format: string, inflated: boolean): ImgserveError {
  return new ImgserveError(
    "METADATA_TOO_LARGE",
    `the ${format}'s ICC profile ${inflated ? "inflates to" : "is"} more than ${
      MAX_PROFILE_BYTES >> 20
    } MiB, over the limit for embedded profiles`,
  );
}

/**
 * Refuses a JPEG with more than {@linkcode MAX_JPEG_SCANS} scans in
 * `bytes` (all of it in a worker; what has been read of it at validation).
 *
 * @example
 * ```ts
 * assertFewScans(jpegBytes); // throws TOO_MANY_SCANS for a repeated-scan JPEG
 * ```
 */
export function assertFewScans(bytes: Uint8Array): void {
  const scans = countJpegScans(bytes, MAX_JPEG_SCANS);
  if (scans > MAX_JPEG_SCANS) {
    throw new ImgserveError(
      "TOO_MANY_SCANS",
      `the JPEG has more than ${MAX_JPEG_SCANS} scans (encoders write about 10); each costs a pass over the image`,
    );
  }
}
