/**
 * Animated GIFs, in this process: a 24-frame 640x480 GIF made a 200x120
 * cover animated GIF, timed against the row it is compared with, its first
 * frame as a PNG source made a 200x120 PNG; then a 500-frame 1000x1000
 * GIF made a 200x200 animated GIF, with the process's peak resident
 * memory over the run (a frame at a time: a few canvases, not 500).
 *
 * @module
 */
import { planJob } from "../src/job/planner.ts";
import { readHeader } from "../src/image/header.ts";
import { withFrames } from "../src/image/animation_header.ts";
import type { Plan } from "../protocol/plan.ts";
import { makeAnimatedOutputs } from "../workers/animation/make_animated.ts";
import { StageTimer } from "../workers/ops/timer.ts";
import { loadCodecs } from "../workers/wasm.ts";
import { manyFrameGif } from "../test/helpers/animations.ts";
import { makeOne } from "./pipelines.ts";

/** What the animation bench measured. */
export interface AnimationResult {
  /** ms per animated GIF (24 frames) and per PNG of its first frame, medians. */
  gifMs: number;
  pngMs: number;
  frames: number;
  /** The 500-frame GIF: ms (and by stage), and the growth of the process's peak resident memory in bytes. */
  long: { frames: number; ms: number; stages: Record<string, number>; peakGrowth: number };
}

const LIMITS = { maxFrames: 100_000, maxAnimationPixels: Number.MAX_SAFE_INTEGER };

function planFor(bytes: Uint8Array, args: { width: number; height: number; format?: "png" }): Plan {
  const header = withFrames(readHeader(bytes, true), bytes, LIMITS);
  return planJob({ operationType: "resize", args: { mode: "cover", ...args } }, header, 16383);
}

/** One output of an animated source, made as a worker makes it. */
async function madeFrom(bytes: Uint8Array, plan: Plan, timer = new StageTimer()): Promise<ArrayBuffer> {
  let made: ArrayBuffer | undefined;
  await makeAnimatedOutputs(bytes, [plan], timer, (_, result) => {
    if (!result.ok) throw new Error(result.message);
    made = result.bytes;
  });
  return made!;
}

function peakResident(): number {
  const status = Deno.readTextFileSync("/proc/self/status");
  return Number(/^VmHWM:\s+(\d+)/m.exec(status)![1]) * 1024;
}

/** Runs the animation bench: `reps` timed runs of each after a warm-up. */
export async function benchAnimation(reps: number): Promise<AnimationResult> {
  await loadCodecs();
  const frames = 24;
  const gif = manyFrameGif(640, 480, frames);
  const gifPlan = planFor(gif, { width: 200, height: 120 });
  // The PNG row: the GIF's first frame, as a PNG source.
  const png = new Uint8Array(await madeFrom(gif, planFor(gif, { width: 640, height: 480, format: "png" })));
  const pngPlan = planJob(
    { operationType: "resize", args: { mode: "cover", width: 200, height: 120 } },
    readHeader(png, true),
    16383,
  );
  const time = async (run: () => Promise<unknown>) => {
    const runs: number[] = [];
    for (let rep = 0; rep <= reps; rep++) {
      const t = performance.now();
      await run();
      if (rep > 0) runs.push(performance.now() - t);
    }
    return runs.sort((a, b) => a - b)[runs.length >> 1];
  };
  const gifMs = await time(() => madeFrom(gif, gifPlan));
  const pngMs = await time(() => makeOne(png, pngPlan, new StageTimer()));
  const longFrames = 500;
  const long = manyFrameGif(1000, 1000, longFrames);
  const longPlan = planFor(long, { width: 200, height: 200 });
  // Writing 5 to clear_refs resets the peak (VmHWM) to the current resident size.
  Deno.writeTextFileSync("/proc/self/clear_refs", "5");
  const peakBefore = peakResident();
  const t = performance.now();
  const timer = new StageTimer();
  await madeFrom(long, longPlan, timer);
  const ms = performance.now() - t;
  return {
    gifMs,
    pngMs,
    frames,
    long: {
      frames: longFrames,
      ms,
      stages: timer.times,
      peakGrowth: peakResident() - peakBefore,
    },
  };
}

if (import.meta.main) console.log(await benchAnimation(5));
