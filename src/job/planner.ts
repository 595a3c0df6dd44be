/**
 * The result's size and format, worked out from the source header and the
 * args alone, so the placeholder can be made before any pixel is decoded.
 *
 * @module
 */
import { ImgserveError } from "../../protocol/error_codes.ts";
import type { JobArgs } from "./request.ts";
import type { ImageHeader, Operation, OutputFormat, Plan, Rect } from "../../protocol/plan.ts";

/** The widest WebP result (libwebp's limit), and so the default `--max-side`. */
export const WEBP_MAX_SIDE = 16383;

/** MIME type of an output format. */
export function contentTypeOf(format: OutputFormat): string {
  return `image/${format}`;
}

/** The usual file extension of an output format, for the `{$format}` tag. */
export function extensionOf(format: OutputFormat): string {
  return format === "jpeg" ? "jpg" : format;
}

/** Quality when args.quality is not given: each encoder's usual middle ground. */
export const DEFAULT_QUALITY: Record<OutputFormat, number> = { png: 100, jpeg: 85, webp: 80, avif: 60 };

const WRITABLE = new Set<string>(["png", "jpeg", "webp", "avif"]);

/**
 * Plans one output of a job.
 *
 * @example
 * ```ts
 * planJob({ operationType: "resize", args: { width: 200, mode: "cover" } }, { format: "png", width: 300, height: 100, orientation: 1, hasAlpha: false }, 16383, 10_000_000);
 * ```
 */
export function planJob(
  job: { operationType: Operation; args: JobArgs },
  source: ImageHeader,
  maxSide: number,
  maxResultPixels = Number.MAX_SAFE_INTEGER,
): Plan {
  const { args } = job;
  if (job.operationType === "resize" && source.format === "svg") {
    throw new ImgserveError("SOURCE_FORMAT_UNSUPPORTED", "resize takes raster sources; use rasterize for SVG");
  }
  if (job.operationType === "rasterize" && source.format !== "svg") {
    throw new ImgserveError("SOURCE_FORMAT_UNSUPPORTED", "rasterize takes SVG sources; use resize for raster images");
  }
  const sw = source.width;
  const sh = source.height;
  const whole: Rect = { x: 0, y: 0, width: sw, height: sh };
  let width: number;
  let height: number;
  let crop = whole;
  const mode = job.operationType === "rasterize" ? "fit" : args.mode;
  if (args.width === undefined && args.height === undefined) {
    width = sw;
    height = sh;
  } else if (args.width === undefined || args.height === undefined) {
    width = args.width ?? Math.max(1, Math.round(sw * args.height! / sh));
    height = args.height ?? Math.max(1, Math.round(sh * args.width! / sw));
  } else if (mode === "fit" && job.operationType === "resize") {
    const scale = Math.min(args.width / sw, args.height / sh);
    width = Math.max(1, Math.round(sw * scale));
    height = Math.max(1, Math.round(sh * scale));
  } else {
    width = args.width;
    height = args.height;
    if (mode === "cover") crop = coverCrop(sw, sh, width, height);
  }
  if (width > maxSide || height > maxSide) {
    throw new ImgserveError(
      "RESULT_TOO_LARGE",
      `the result would be ${width}x${height}, over the limit of ${maxSide} pixels a side`,
    );
  }
  // Checked here rather than found out in the worker, whose codecs cannot allocate much more.
  if (width * height > maxResultPixels) {
    throw new ImgserveError(
      "RESULT_TOO_MANY_PIXELS",
      `the result would be ${width}x${height}, over the limit of ${maxResultPixels} pixels`,
    );
  }
  const format = args.format ?? defaultFormat(source);
  if (format === "webp" && Math.max(width, height) > WEBP_MAX_SIDE) {
    throw new ImgserveError(
      "RESULT_TOO_LARGE",
      `the result would be ${width}x${height}, over the ${WEBP_MAX_SIDE} pixels a side a WebP can have`,
    );
  }
  const quality = args.quality ?? DEFAULT_QUALITY[format];
  const failOn = args.failOn ?? "warning";
  return { op: job.operationType, source, width, height, format, quality, lossless: args.lossless, mode, crop, failOn };
}

/**
 * The result's format when args.format is not given: the source's own when
 * it can be written; a HEIC's (a camera's photo) JPEG, PNG when it has
 * alpha; GIF, BMP and SVG's PNG.
 */
function defaultFormat(source: ImageHeader): OutputFormat {
  if (WRITABLE.has(source.format)) return source.format as OutputFormat;
  return source.format === "heic" && !source.hasAlpha ? "jpeg" : "png";
}

/** The centred part of a sw x sh image with the aspect ratio of w x h. */
export function coverCrop(sw: number, sh: number, w: number, h: number): Rect {
  if (sw * h > sh * w) {
    const width = Math.max(1, Math.min(sw, Math.round(sh * w / h)));
    return { x: Math.floor((sw - width) / 2), y: 0, width, height: sh };
  }
  const height = Math.max(1, Math.min(sh, Math.round(sw * h / w)));
  return { x: 0, y: Math.floor((sh - height) / 2), width: sw, height };
}
