/**
 * The outputs of an animated source (a GIF of several frames, an animated
 * WebP), from one pass over its frames: each frame is decoded onto the
 * canvas, then every animated output resizes it (the same crop for every
 * frame) and adds it to its GIF or WebP, and a still output takes the one
 * frame it asked for (the first by default). Frames are decoded and
 * encoded one at a time, so a worker holds the canvas, one resized frame
 * and the encoded bytes, whatever the frame count; the pass stops after the
 * last frame any output needs.
 *
 * @module
 */
import type { Plan } from "../../protocol/plan.ts";
import type { MadeOutput } from "../../protocol/work.ts";
import { GifWriter } from "../../shared/gif_writer.ts";
import { plainFailure } from "../ops/failure.ts";
import type { Pixels } from "../ops/pixels.ts";
import { release } from "../ops/release.ts";
import { type StageTimer, Stopped } from "../ops/timer.ts";
import { makeOutput, resizeDecoded, type SourceImage } from "../pipeline/mod.ts";
import type { AnimationFrames } from "./canvas_frames.ts";
import { gifFrames } from "./gif_frames.ts";
import { webpFrames } from "./webp_frames.ts";
import { WebpAnimationWriter } from "./webp_writer.ts";

/** One animated output's encoder. */
interface FrameWriter {
  add(image: Pixels, delayMs: number): void | Promise<void>;
  finish(): ArrayBuffer;
}

/** Where one output stands: its writer (animated), its bytes once made, or why it failed. */
interface Progress {
  writer?: FrameWriter;
  bytes?: ArrayBuffer;
  failed?: string;
}

/**
 * Makes every output of an animated source; each is passed to `hand` in
 * order once the pass is over. Throws when the source itself cannot be
 * decoded; an output that fails alone is handed as failed.
 *
 * @example
 * ```ts
 * await makeAnimatedOutputs(bytes, plans, timer, (index, made) => post(index, made));
 * ```
 */
export async function makeAnimatedOutputs(
  bytes: Uint8Array,
  plans: Plan[],
  timer: StageTimer,
  hand: (index: number, made: MadeOutput) => void,
): Promise<void> {
  const header = plans[0].source;
  const failOn = plans[0].failOn ?? "warning";
  const maxFrames = header.frames ?? 1;
  const animation: AnimationFrames = await timer.time(
    "decode",
    () => header.format === "gif" ? gifFrames(bytes, maxFrames, failOn) : webpFrames(bytes, maxFrames, failOn),
  );
  const progress: Progress[] = plans.map((plan) => ({
    writer: plan.animated ? writerFor(plan, animation) : undefined,
  }));
  const last = plans.some((p) => p.animated) ? Infinity : Math.max(...plans.map((p) => p.frame ?? 0));
  let n = 0;
  const frames = animation.frames;
  while (n <= last) {
    const next = await timer.time("decode", () => frames.next());
    if (next.done) break;
    const frame = next.value;
    const source: SourceImage = { bytes, plans, image: frame.image, scale: 1, factor: 1, colour: {}, orientation: 1 };
    for (const [index, plan] of plans.entries()) {
      const state = progress[index];
      if (state.failed !== undefined || (!plan.animated && (plan.frame ?? 0) !== n)) continue;
      try {
        if (!plan.animated) {
          state.bytes = await makeOutput(source, plan, timer);
          continue;
        }
        const pixels = await resizeDecoded(source, plan, timer);
        await timer.time("encode", () => state.writer!.add(pixels, frame.delayMs));
        if (pixels.data !== frame.image.data) release(pixels.data);
      } catch (err) {
        // A job given up stops here, as between any two steps.
        if (err instanceof Stopped) throw err;
        state.failed = failure(err, plan);
      }
    }
    n++;
  }
  await frames.return(undefined);
  for (const [index, plan] of plans.entries()) {
    hand(index, await finished(progress[index], plan, n, timer));
  }
}

function writerFor(plan: Plan, animation: AnimationFrames): FrameWriter {
  if (plan.format === "gif") {
    const gif = new GifWriter(animation.plays);
    return { add: (image, delayMs) => gif.add(image, delayMs), finish: () => gif.finish().buffer };
  }
  const options = plan.lossless ? { lossless: 1, quality: 75, exact: 0 } : { quality: plan.quality };
  return new WebpAnimationWriter(plan.width, plan.height, animation.plays, options);
}

/** What became of an output once the pass is over (`shown`: how many frames were decoded). */
async function finished(state: Progress, plan: Plan, shown: number, timer: StageTimer): Promise<MadeOutput> {
  const times = timer.times;
  if (state.failed !== undefined) {
    return {
      ok: false,
      code: "DECODE_FAILED",
      message: `the image could not be processed: ${state.failed}`,
      sound: false,
    };
  }
  let bytes = state.bytes;
  if (state.writer) {
    try {
      bytes = await timer.time("encode", () => state.writer!.finish());
    } catch (err) {
      return {
        ok: false,
        code: "DECODE_FAILED",
        message: `the image could not be processed: ${failure(err, plan)}`,
        sound: false,
      };
    }
  }
  if (bytes === undefined) {
    return {
      ok: false,
      code: "DECODE_FAILED",
      message: `the image could not be processed: only ${shown} frames could be decoded, not frame ${plan.frame ?? 0}`,
      sound: true,
    };
  }
  return { ok: true, bytes, size: bytes.byteLength, times };
}

function failure(err: unknown, plan: Plan): string {
  const plain = plainFailure(err, plan.source.format, plan.width * plan.height * 4);
  return /memory/.test(plain) ? plain : `the ${plan.width}x${plan.height} ${plan.format} output could not be made`;
}
