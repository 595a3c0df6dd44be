/**
 * Codec failures as sentences for people. The codecs fail with messages
 * meant for their own developers (wasm-bindgen's "`unwrap_throw` failed",
 * Rust's "recursive use of an object detected which would lead to unsafe
 * aliasing", C++ exception pointers thrown as bare numbers); a client is
 * told what was wrong with its image instead.
 *
 * @module
 */

import type { SourceFormat } from "../../protocol/plan.ts";

/** The image formats a job reads. */
type Format = SourceFormat;

/** Each format as people write it: "JPEG", "WebP". */
export const FORMAT_NAMES: Record<Format, string> = {
  png: "PNG",
  jpeg: "JPEG",
  svg: "SVG",
  webp: "WebP",
  avif: "AVIF",
  heic: "HEIC",
  gif: "GIF",
  bmp: "BMP",
  tiff: "TIFF",
};

/** Decoded images this large may have failed for want of memory rather than bad data. */
const LARGE_BYTES = 512 * 1024 * 1024;

/**
 * usvg's own errors that are plain already; anything else from resvg is
 * replaced by a general sentence.
 */
const SVG_MESSAGES: [RegExp, (m: RegExpExecArray) => string][] = [
  [/^SVG data parsing failed cause (.{1,160})$/, (m) => `the SVG could not be parsed: ${m[1].replace(/[`]/g, "")}`],
  [/not an UTF-8 encoding/i, () => "the SVG is not valid UTF-8 text"],
  [/root element is not svg|no <svg> element/i, () => "the SVG has no <svg> root element"],
  [/invalid size/i, () => "the SVG has no usable size"],
  [/elements count limit/i, () => "the SVG has more elements than the renderer accepts"],
];

/**
 * A sentence for a failed decode, render or encode of a `format` image
 * whose decoded pixels take `pixelBytes`.
 *
 * @example
 * ```ts
 * plainFailure(new Error("`unwrap_throw` failed"), "png", 4 * 640 * 480); // "the PNG data is truncated or corrupt"
 * ```
 */
export function plainFailure(err: unknown, format: Format, pixelBytes = 0): string {
  const message = err instanceof Error ? err.message : "";
  const name = FORMAT_NAMES[format];
  if (/call stack/i.test(message)) return `the ${name} is nested too deeply to be drawn`;
  if (err instanceof RangeError || /out of memory|memory allocation|Maximum memory size/i.test(message)) {
    return `the ${name} needs more memory than an image worker can have`;
  }
  if (err instanceof WebAssembly.RuntimeError && pixelBytes >= LARGE_BYTES) {
    return `the ${name} could not be processed: it is corrupt, or it needs more memory than an image worker can have`;
  }
  if (format === "svg") {
    for (const [pattern, sentence] of SVG_MESSAGES) {
      const match = pattern.exec(message);
      if (match) return sentence(match);
    }
    return "the SVG could not be rendered: it is malformed or uses something the renderer cannot draw";
  }
  return `the ${name} data is truncated or corrupt`;
}
