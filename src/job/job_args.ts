/**
 * A job's `args` → checked {@linkcode JobArgs}: each key known, each value
 * of its type and range, before anything is planned.
 *
 * @module
 */
import { ImgserveError } from "../../protocol/error_codes.ts";
import { MAX_PAGES } from "../../shared/tiff_ifd.ts";
import type { FailOn, Operation, OutputFormat, ResizeMode } from "../../protocol/plan.ts";
import { parseS3Args, type S3ObjectArgs } from "../transport/s3/s3_args.ts";

/** The checked `args` of a job. */
export interface JobArgs {
  width?: number;
  height?: number;
  mode: ResizeMode;
  format?: OutputFormat;
  /** JPEG, WebP and AVIF quality 1-100 (each format's default when not given). */
  quality?: number;
  /** WebP only: lossless encoding. */
  lossless?: boolean;
  /** HTTP form uploads: the file input's name. */
  fieldName?: string;
  /** Absent in jobs journaled before it existed: "warning". */
  failOn?: FailOn;
  /** s3:// destinations: the object's Cache-Control and user metadata. */
  s3?: S3ObjectArgs;
  /** An animated source's frame (from 0) a still result is made of. */
  frame?: number;
  /** false: an animated source gives a still of its first frame. */
  animated?: boolean;
  /** A multi-page TIFF's page, 0 (the first) when absent. */
  page?: number;
}

const ARG_KEYS = new Set([
  "width",
  "height",
  "mode",
  "format",
  "quality",
  "lossless",
  "field_name",
  "failOn",
  "frame",
  "animated",
  "s3",
  "page",
]);
const OUTPUT_FORMATS: readonly OutputFormat[] = ["png", "jpeg", "webp", "avif", "gif"];

/**
 * Checks one output's `args` object against the operation and `--max-side`.
 *
 * @example
 * ```ts
 * const args = parseJobArgs({ width: 200, format: "jpg" }, "resize", 16384); // format "jpeg", mode "cover"
 * ```
 */
export function parseJobArgs(args: Record<string, unknown>, op: Operation, maxSide: number): JobArgs {
  for (const key of Object.keys(args)) {
    if (!ARG_KEYS.has(key)) {
      throw new ImgserveError(
        "BAD_ARGS",
        `args.${key.slice(0, 40)} is not a known argument; known are ${[...ARG_KEYS].join(", ")}`,
      );
    }
  }
  const side = (key: "width" | "height") => {
    const value = args[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
      throw new ImgserveError("BAD_ARGS", `args.${key} must be a positive whole number`);
    }
    if (value > maxSide) {
      throw new ImgserveError("RESULT_TOO_LARGE", `args.${key} ${value} is over the limit of ${maxSide} pixels`);
    }
    return value;
  };
  const width = side("width");
  const height = side("height");
  if (op === "resize" && width === undefined && height === undefined) {
    throw new ImgserveError("BAD_ARGS", "resize needs args.width, args.height or both");
  }
  const mode = args.mode ?? "cover";
  if (mode !== "cover" && mode !== "fit" && mode !== "stretch") {
    throw new ImgserveError("BAD_ARGS", `args.mode must be "cover", "fit" or "stretch"`);
  }
  let format = args.format;
  if (format === "jpg") format = "jpeg";
  if (format !== undefined && !OUTPUT_FORMATS.includes(format as OutputFormat)) {
    throw new ImgserveError("BAD_ARGS", `args.format must be "png", "jpeg", "webp", "avif" or "gif"`);
  }
  const quality = args.quality ?? undefined;
  if (
    quality !== undefined && (typeof quality !== "number" || !Number.isInteger(quality) || quality < 1 || quality > 100)
  ) {
    throw new ImgserveError("BAD_ARGS", "args.quality must be a whole number from 1 to 100");
  }
  const lossless = args.lossless ?? false;
  if (typeof lossless !== "boolean") throw new ImgserveError("BAD_ARGS", "args.lossless must be true or false");
  const fieldName = args.field_name;
  if (fieldName !== undefined && (typeof fieldName !== "string" || fieldName === "")) {
    throw new ImgserveError("BAD_ARGS", "args.field_name must be a non-empty string");
  }
  const failOn = args.failOn ?? "warning";
  if (failOn !== "warning" && failOn !== "none") {
    throw new ImgserveError("BAD_ARGS", `args.failOn must be "warning" (the default) or "none"`);
  }
  const frame = args.frame ?? undefined;
  if (frame !== undefined && (typeof frame !== "number" || !Number.isInteger(frame) || frame < 0)) {
    throw new ImgserveError("BAD_ARGS", "args.frame must be a whole number from 0 (the first frame)");
  }
  const animated = args.animated ?? undefined;
  if (animated !== undefined && typeof animated !== "boolean") {
    throw new ImgserveError("BAD_ARGS", "args.animated must be true or false");
  }
  if (animated === true && frame !== undefined) {
    throw new ImgserveError("BAD_ARGS", "args.frame takes one frame, so args.animated cannot be true beside it");
  }
  const s3 = parseS3Args(args.s3, "args.s3");
  const page = args.page ?? undefined;
  if (page !== undefined && (typeof page !== "number" || !Number.isInteger(page) || page < 0 || page >= MAX_PAGES)) {
    throw new ImgserveError("BAD_ARGS", `args.page must be a whole number from 0 (the first page) to ${MAX_PAGES - 1}`);
  }
  return {
    width,
    height,
    mode,
    format: format as OutputFormat | undefined,
    quality,
    lossless,
    fieldName,
    failOn,
    ...(s3 ? { s3 } : {}),
    ...(frame !== undefined ? { frame } : {}),
    ...(animated !== undefined ? { animated } : {}),
    ...(page ? { page } : {}),
  };
}
