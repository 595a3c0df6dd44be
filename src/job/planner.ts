/**
 * The result's size and format, worked out from the source header and the
 * args alone, so the placeholder can be made before any pixel is decoded.
 *
 * @module
 */
import { ImgserveError } from "../../protocol/error_codes.ts";
import type { JobArgs } from "./job_args.ts";
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
export const DEFAULT_QUALITY: Record<OutputFormat, number> = { png: 100, jpeg: 85, webp: 80, avif: 60, gif: 100 };

const WRITABLE = new Set<string>(["png", "jpeg", "webp", "avif"]);
/** The formats a result can be animated in. */
const ANIMATED = new Set<string>(["gif", "webp"]);

/**
 * Plans one output of a job.
 *
 * @example
 * ```ts
 * planJob({ operationType: "resize", args: { width: 200, mode: "cover" } }, { format: "png", width: 300, height: 100, orientation: 1, hasAlpha: false }, 16383, 10_000_000);
 * ```
 */
export function planJob(
  job: { operationType: Operation; args: JobArgs; dstTemplate?: string },
  source: ImageHeader,
  maxSide: number,
  maxResultPixels = Number.MAX_SAFE_INTEGER,
  maxAnimationPixels = Number.MAX_SAFE_INTEGER,
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
  const format = args.format ?? defaultFormat(source, job.dstTemplate);
  if (format === "webp" && Math.max(width, height) > WEBP_MAX_SIDE) {
    throw new ImgserveError(
      "RESULT_TOO_LARGE",
      `the result would be ${width}x${height}, over the ${WEBP_MAX_SIDE} pixels a side a WebP can have`,
    );
  }
  const quality = args.quality ?? DEFAULT_QUALITY[format];
  const failOn = args.failOn ?? "warning";
  const plan: Plan = {
    op: job.operationType,
    source,
    width,
    height,
    format,
    quality,
    lossless: args.lossless,
    mode,
    crop,
    failOn,
  };
  return { ...plan, ...framesOf(args, plan, maxAnimationPixels) };
}

/**
 * Which frames of the source the plan takes: all of an animation for a GIF
 * or WebP result (unless args ask for one), else one, the first by default.
 */
function framesOf(args: JobArgs, plan: Plan, maxAnimationPixels: number): Pick<Plan, "animated" | "frame"> {
  const frames = plan.source.frames ?? 1;
  if (args.frame !== undefined && args.frame >= frames) {
    throw new ImgserveError(
      "FRAME_OUT_OF_RANGE",
      `args.frame is ${args.frame}, but the source has ${frames} frame${frames === 1 ? "" : "s"} (0 to ${frames - 1})`,
    );
  }
  const animated = plan.source.frames !== undefined && args.frame === undefined && args.animated !== false &&
    ANIMATED.has(plan.format);
  if (!animated) return plan.source.frames === undefined ? {} : { frame: args.frame ?? 0 };
  if (frames * plan.width * plan.height > maxAnimationPixels) {
    throw new ImgserveError(
      "ANIMATION_TOO_MANY_PIXELS",
      `the result would be ${frames} frames of ${plan.width}x${plan.height}, over the limit of ` +
        `${maxAnimationPixels} pixels for all frames`,
    );
  }
  return { animated: true };
}

/**
 * The result's format when args name none. An animation stays animated in
 * the format its destination's name ends in (`.gif`, `.webp`), else in its
 * own when the name ends in a tag (`{$ext}`, `{$format}`) or has no
 * extension; otherwise, and for a still, the source's format when it can be
 * written, a HEIC's (a camera's photo) JPEG, or PNG when it has alpha, else
 * PNG (an animated GIF to `x.png` is a PNG of its first frame).
 */
function defaultFormat(source: ImageHeader, dstTemplate = ""): OutputFormat {
  if (source.frames !== undefined) {
    const name = dstTemplate.split(/[/?#]/).filter((part) => part !== "").pop() ?? "";
    const named = /\.(gif|webp)$/i.exec(name)?.[1].toLowerCase();
    if (named) return named as OutputFormat;
    if (/\}$|^[^.]*$/.test(name)) return source.format as OutputFormat;
  }
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
