/**
 * What the pixel pipeline's steps pass along, and how a list of them is
 * run: in order, each timed under its stage, the job given up between two
 * steps once its worker is being ended (see {@linkcode StageTimer}).
 *
 * @module
 */
import type { Plan, Rect } from "../../protocol/plan.ts";
import type { ColourInfo } from "../ops/icc.ts";
import type { FontSet } from "../ops/rasterize.ts";
import type { Pixels } from "../ops/pixels.ts";
import type { StageTimer } from "../ops/timer.ts";

/**
 * A source, decoded once for every output made from it. The steps of
 * `DECODE` (mod.ts) fill it in; the outputs' steps only read it.
 */
export interface SourceImage {
  /** The source file. */
  readonly bytes: Uint8Array;
  /** Every output's plan; they share the source's header and its failOn. */
  readonly plans: Plan[];
  /** The decoded pixels: as stored, then in sRGB, then upright. */
  image: Pixels;
  /** Decoded pixels per source pixel: below 1 after a reduced JPEG decode. */
  scale: number;
  /** The smallest size the decode had to keep, as a fraction of the source's: set by the most demanding output. */
  factor: number;
  /** What the file says of its colours (an embedded profile, CMYK): read at the decode, applied by toSrgb. */
  colour: ColourInfo;
  /** The EXIF orientation the pixels still need: 1 once they are upright. */
  orientation: number;
  /**
   * The source's rectangle the pixels show, when they are another output's
   * scaled pixels (pyramid.ts); absent, the whole source at `scale`.
   */
  shows?: Rect;
}

/** One output on its way through the steps of `RESIZE` and `ENCODE` (mod.ts), or of `SVG_OUTPUT` (svg.ts). */
export interface OutputImage {
  readonly plan: Plan;
  /** The decoded source it is made from, which it leaves as it is: the next output reads it too. */
  readonly source?: SourceImage;
  /** The SVG's text and fonts, for an SVG's output: drawn at the plan's size rather than decoded. */
  readonly svg?: { text: string; fonts: FontSet };
  /** crop: the plan's rectangle in the pixels' coordinates (fractional in a larger output's pixels). */
  region?: Rect;
  /** scale (or drawSvg): the output's pixels, plan.width x plan.height; they may be the source's own. */
  pixels?: Pixels;
  /** encode: the encoded result. */
  bytes?: ArrayBuffer;
}

/** One step: does its part of the work on `image` in place. */
export type PixelStep<T> = (image: T) => void | Promise<void>;

/** Steps in the order they run, each with the stage (the `times` key) its time is added to. */
export type Steps<T> = readonly (readonly [stage: string, step: PixelStep<T>])[];

/** Runs `steps` in order on `image`. */
export async function runSteps<T>(steps: Steps<T>, image: T, timer: StageTimer): Promise<void> {
  for (const [stage, step] of steps) await timer.time(stage, () => step(image));
}
