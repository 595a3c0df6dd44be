/**
 * The pixel pipeline: a resize as lists of named steps, run in order, in
 * the manner of imgproxy's processing pipeline. {@linkcode DECODE} runs
 * once per source; {@linkcode RESIZE} and {@linkcode ENCODE} run once per
 * output, from the decoded source, which they leave as it is. An SVG has
 * its own short list, `SVG_OUTPUT` (svg.ts), run in the render process.
 *
 * A step is `(image) => void | Promise<void>` in a file of this folder,
 * with a test of its own; it reads what earlier steps left on the
 * {@linkcode SourceImage} or {@linkcode OutputImage} and adds its own
 * part. Each runs timed under its stage (the `times` a job reports), and
 * a job given up stops between two steps. Large buffers are freed as soon
 * as the step that made the next one is done with them (ops/release.ts).
 *
 * @module
 */
import type { Plan } from "../../protocol/plan.ts";
import type { Pixels } from "../ops/pixels.ts";
import { release } from "../ops/release.ts";
import type { StageTimer } from "../ops/timer.ts";
import { crop } from "./crop.ts";
import { decodeAtScale } from "./decode_at_scale.ts";
import { encode } from "./encode.ts";
import { flatten } from "./flatten.ts";
import { orient } from "./orient.ts";
import { scale } from "./scale.ts";
import { type OutputImage, runSteps, type SourceImage, type Steps } from "./step.ts";
import { toSrgb } from "./to_srgb.ts";

export type { OutputImage, SourceImage } from "./step.ts";

/** Once per source: its pixels at the scale every output can use, in sRGB, upright. */
export const DECODE: Steps<SourceImage> = [
  ["decode", decodeAtScale],
  ["decode", toSrgb],
  ["decode", orient],
];

/** Once per output: the plan's rectangle of the decoded pixels, at the plan's size. */
export const RESIZE: Steps<OutputImage> = [
  ["resize", crop],
  ["resize", scale],
];

/** Once per output, last: alpha flattened or kept as the format needs, then the encoded bytes. */
export const ENCODE: Steps<OutputImage> = [
  ["encode", flatten],
  ["encode", encode],
];

/** Decodes a source once for every plan (all share its header and its failOn). */
export async function decodeSource(bytes: Uint8Array, plans: Plan[], timer: StageTimer): Promise<SourceImage> {
  const image = { data: new Uint8ClampedArray(0), width: 0, height: 0 };
  const source: SourceImage = { bytes, plans, image, scale: 1, factor: 1, colour: {}, orientation: 1 };
  await runSteps(DECODE, source, timer);
  return source;
}

/** One output of the decoded source, encoded; the source is left as it was. */
export async function makeOutput(source: SourceImage, plan: Plan, timer: StageTimer): Promise<ArrayBuffer> {
  return await encodeOutput(await resizeOutput(source, plan, timer), timer);
}

/**
 * One output's scaled pixels, not yet encoded: they can feed smaller
 * outputs (pyramid.ts) before {@linkcode encodeOutput} frees them.
 */
export async function resizeOutput(source: SourceImage, plan: Plan, timer: StageTimer): Promise<OutputImage> {
  const output: OutputImage = { plan, source };
  await runSteps(RESIZE, output, timer);
  return output;
}

/** A scaled output's bytes; its pixels are freed unless they are its source's. */
export async function encodeOutput(output: OutputImage, timer: StageTimer): Promise<ArrayBuffer> {
  await runSteps(ENCODE, output, timer);
  return output.bytes!;
}

/**
 * One output's pixels from the decoded source, not yet encoded (an
 * animation's frame, which its writer encodes); they may be the source's own.
 */
export async function resizeDecoded(source: SourceImage, plan: Plan, timer: StageTimer): Promise<Pixels> {
  return (await resizeOutput(source, plan, timer)).pixels!;
}

/**
 * One plan's pixels, everything but the encode: what the tests and the
 * bench hold against reference tools. The decoded pixels are freed.
 */
export async function resizePixels(bytes: Uint8Array, plan: Plan, timer: StageTimer): Promise<Pixels> {
  const source = await decodeSource(bytes, [plan], timer);
  const { pixels } = await resizeOutput(source, plan, timer);
  if (pixels!.data !== source.image.data) release(source.image.data);
  return pixels!;
}
