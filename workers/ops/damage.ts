/**
 * Damaged sources. A file that decodes only with a warning (cut short,
 * corrupt compressed data, a bad checksum) fails its job with
 * SOURCE_DAMAGED unless the job says `"failOn": "none"`, as sharp's
 * `failOn` does; then it is taken with whatever of it could be decoded.
 *
 * Each decoder tells damage its own way: libjpeg-turbo and MozJPEG report
 * warnings (see jpeg_scaled.ts and {@linkcode noteJpegWarning}), libnsbmp
 * returns "insufficient data", a GIF's first frame is cut (gif_frame.ts).
 * The PNG, WebP, AVIF and HEIC decoders
 * cannot tell: the PNG one ignores CRCs and a missing IEND, the others
 * refuse a cut file outright. For them the file's own structure is checked
 * (png_damage.ts, {@linkcode webpDamage}, {@linkcode heifDamage}); libheif
 * also warns of a grid tile it could not decode (heic_decode.ts).
 *
 * @module
 */
import { ImgserveError } from "../../protocol/error_codes.ts";
import type { FailOn, SourceFormat } from "../../protocol/plan.ts";
import { FORMAT_NAMES } from "./failure.ts";
import { release } from "./release.ts";

/**
 * Refuses a damaged source unless `failOn` is "none"; `why` says what is
 * wrong in a few words. `decoded`: pixels already decoded from it, freed
 * when it is refused (the worker goes on to its next job).
 *
 * @example
 * ```ts
 * damaged("png", "its IDAT chunk fails its CRC check", plan.failOn); // throws SOURCE_DAMAGED
 * ```
 */
export function damaged(
  format: SourceFormat,
  why: string,
  failOn: FailOn = "warning",
  ...decoded: ArrayBufferView[]
): void {
  if (failOn === "none") return;
  release(...decoded);
  throw new ImgserveError(
    "SOURCE_DAMAGED",
    `the ${
      FORMAT_NAMES[format]
    } is damaged: ${why}; with args.failOn "none" it is taken with whatever of it can be decoded`,
  );
}

let jpegWarning: string | undefined;

/**
 * Where MozJPEG's standard error goes: libjpeg's standard error manager
 * prints a decode's first warning there ("Premature end of JPEG file",
 * "Corrupt JPEG data: bad Huffman code") and carries on.
 */
export function noteJpegWarning(line: string): void {
  jpegWarning ??= line.replace(/[^\x20-\x7e]/g, "?").slice(0, 160);
}

/** The warning MozJPEG printed since the last call, if any; clears it. */
export function takeJpegWarning(): string | undefined {
  const warning = jpegWarning;
  jpegWarning = undefined;
  return warning;
}

/**
 * Why libjpeg-turbo warned, from the file alone (TurboJPEG keeps its
 * message to itself): a JPEG whose last kilobyte holds no end-of-image
 * marker was cut short; anything else is corrupt entropy-coded data.
 */
export function jpegWarningCause(bytes: Uint8Array): string {
  const tail = bytes.subarray(Math.max(0, bytes.length - 1024));
  for (let i = tail.length - 2; i >= 0; i--) {
    if (tail[i] === 0xff && tail[i + 1] === 0xd9) return "its compressed data is corrupt";
  }
  return "it ends before its end-of-image marker (cut short)";
}

const ascii = (b: Uint8Array, at: number, n: number) => String.fromCharCode(...b.subarray(at, at + n));

/** A WebP shorter than its RIFF header says: the length it should have, else undefined. */
export function webpDamage(bytes: Uint8Array): number | undefined {
  const declared = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(4, true) + 8;
  return declared > bytes.length ? declared : undefined;
}

/**
 * An AVIF or HEIC (ISOBMFF) whose top-level boxes run past its end: the
 * length it should have, else undefined. AV1 and HEVC data have no
 * checksum, so damage inside a complete file is left to the decoder.
 */
export function heifDamage(bytes: Uint8Array): number | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  // Each box is at least 8 bytes: at most length / 8 rounds.
  while (at + 8 <= bytes.length) {
    let size = view.getUint32(at);
    if (size === 1 && at + 16 <= bytes.length) size = Number(view.getBigUint64(at + 8));
    else if (size === 0) return undefined;
    if (size < 8) return undefined;
    at += size;
  }
  return at > bytes.length ? at : undefined;
}

/**
 * `bytes` followed by zeros up to `length`, but never past `cap`: for
 * decoders that refuse a cut file outright, so that `"failOn": "none"`
 * still gets the part that is there.
 */
export function zeroPadded(bytes: Uint8Array, length: number, cap: number): Uint8Array {
  const padded = new Uint8Array(Math.max(bytes.length, Math.min(length, cap)));
  padded.set(bytes);
  return padded;
}

/** A name from four bytes of a file, safe to put in a message. */
export function fourcc(bytes: Uint8Array, at: number): string {
  return ascii(bytes, at, 4).replace(/[^A-Za-z0-9 ]/g, "?");
}
