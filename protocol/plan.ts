/**
 * The plan: what a worker is told to make from one source, worked out by
 * the server (src/job/plan.ts) from the source's header and the job's args.
 *
 * @module
 */

/** The formats imgserve reads. */
export type SourceFormat = "png" | "jpeg" | "svg" | "webp" | "avif" | "heic" | "gif" | "bmp" | "tiff";

/** What the header says. `width`/`height` are as displayed (orientation applied). */
export interface ImageHeader {
  format: SourceFormat;
  width: number;
  height: number;
  /** EXIF orientation 1-8 (JPEG's EXIF tag, AVIF's and HEIC's irot/imir; 1 when absent). */
  orientation: number;
  /** Whether the image may have transparent pixels. */
  hasAlpha: boolean;
  /** Progressive JPEGs: DCT coefficients per pixel held while decoding (see `coefficientSamples`). */
  progressiveSamples?: number;
  /** HEIF grids: the pixels of all the tiles the decoder makes before it crops them to the image's size. */
  codedPixels?: number;
  /** An animation's frame count (an animated WebP, a GIF of more than one frame): counted from its blocks. */
  frames?: number;
  /** A TIFF's page (IFD) the header is of: 0, the first, when absent. */
  page?: number;
  /** A TIFF's largest strip or tile, decompressed (for JPEG, as decoded RGBA): held beside the image while it decodes. */
  blockBytes?: number;
}

/** The operations imgserve runs. */
export type Operation = "resize" | "rasterize";
/** Output formats. */
export type OutputFormat = "png" | "jpeg" | "webp" | "avif" | "gif";
/** How a resize fills a width x height box. */
export type ResizeMode = "cover" | "fit" | "stretch";
/**
 * What a damaged source does to the job, named as sharp names it:
 * `"warning"` fails it, `"none"` takes whatever of the image could be decoded.
 */
export type FailOn = "none" | "warning";

/** A rectangle in source pixels (after orientation). */
export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * Everything a worker needs to make one result.
 *
 * @example
 * ```ts
 * const plan: Plan = {
 *   op: "resize",
 *   source: { format: "jpeg", width: 4000, height: 3000, orientation: 1, hasAlpha: false },
 *   width: 400,
 *   height: 300,
 *   format: "webp",
 *   quality: 80,
 *   mode: "fit",
 *   crop: { x: 0, y: 0, width: 4000, height: 3000 },
 * };
 * ```
 */
export interface Plan {
  op: Operation;
  source: ImageHeader;
  width: number;
  height: number;
  format: OutputFormat;
  /** The encoder's quality (JPEG, WebP, AVIF). */
  quality: number;
  /** WebP: encode losslessly. */
  lossless?: boolean;
  mode: ResizeMode;
  /** The part of the source that is scaled to width x height. */
  crop: Rect;
  /** What a damaged source does: the same in every output of a job (absent: "warning"). */
  failOn?: FailOn;
  /** Every frame of an animated source, each resized the same way (a GIF or WebP result). */
  animated?: boolean;
  /** The source frame a still result is made from (0 when absent). */
  frame?: number;
}
