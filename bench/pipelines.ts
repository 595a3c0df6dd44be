/**
 * Our resize pipeline against the straightforward one, in this process, on
 * the same images: @jsquash/jpeg decode, @jsquash/resize Lanczos3 over the
 * full image (cover crop), @jsquash/jpeg encode at q80.
 *
 * @module
 */
import decodeJpeg from "@jsquash/jpeg/decode.js";
import encodeJpeg from "@jsquash/jpeg/encode.js";
import resize from "@jsquash/resize";
import { coverCrop } from "../src/job/planner.ts";
import type { Plan } from "../protocol/plan.ts";
import { ENCODE, type OutputImage, resizePixels } from "../workers/pipeline/mod.ts";
import { runSteps } from "../workers/pipeline/step.ts";
import { StageTimer } from "../workers/ops/timer.ts";
import { loadCodecs } from "../workers/wasm.ts";
import type { CorpusImage } from "./corpus.ts";

const WIDTH = 200;
const HEIGHT = 120;
const QUALITY = 80;

/** One image's median times and how close our pixels are to the naive ones. */
export interface PipelineResult {
  name: string;
  size: string;
  coding: string;
  naiveMs: number;
  oursMs: number;
  speedup: number;
  /** PSNR of our 200x120 pixels against the naive pipeline's, before encoding, dB. */
  psnr: number;
}

async function naive(bytes: Uint8Array): Promise<{ jpeg: ArrayBuffer; pixels: ImageData }> {
  const image = await decodeJpeg(bytes.slice().buffer);
  const pixels = await resize(image, { width: WIDTH, height: HEIGHT, method: "lanczos3", fitMethod: "contain" });
  return { jpeg: await encodeJpeg(pixels, { quality: QUALITY }), pixels };
}

/** The 200x120 cover JPEG q80 plan of a corpus photo. */
export function planOf(image: CorpusImage): Plan {
  return {
    op: "resize",
    source: {
      format: "jpeg",
      width: image.width,
      height: image.height,
      orientation: image.orientation,
      hasAlpha: false,
    },
    width: WIDTH,
    height: HEIGHT,
    format: "jpeg",
    quality: QUALITY,
    mode: "cover",
    crop: coverCrop(image.width, image.height, WIDTH, HEIGHT),
  };
}

/**
 * Times both pipelines on each JPEG, alternating them so garbage collection
 * and caches fall on both alike; `reps` timed runs after one warm-up.
 */
export async function comparePipelines(images: CorpusImage[], reps: number): Promise<PipelineResult[]> {
  await loadCodecs();
  const results: PipelineResult[] = [];
  for (const image of images) {
    const bytes = await Deno.readFile(image.path);
    const plan = planOf(image);
    const naiveTimes: number[] = [];
    const ourTimes: number[] = [];
    for (let rep = 0; rep <= reps; rep++) {
      let t = performance.now();
      await naive(bytes);
      if (rep > 0) naiveTimes.push(performance.now() - t);
      t = performance.now();
      await makeOne(bytes, plan, new StageTimer());
      if (rep > 0) ourTimes.push(performance.now() - t);
    }
    const ours = await resizePixels(bytes, plan, new StageTimer());
    const reference = (await naive(bytes)).pixels;
    const naiveMs = median(naiveTimes);
    const oursMs = median(ourTimes);
    results.push({
      name: image.name,
      size: `${image.width}x${image.height}`,
      coding: image.coding ?? "",
      naiveMs,
      oursMs,
      speedup: naiveMs / oursMs,
      psnr: psnr(ours.data, reference.data),
    });
  }
  return results;
}

/**
 * One plan made through the worker's pixel pipeline, in this process: decoded,
 * resized (the decoded pixels freed at once, as nothing else is made from
 * them), encoded.
 */
export async function makeOne(bytes: Uint8Array, plan: Plan, timer: StageTimer): Promise<ArrayBuffer> {
  const output: OutputImage = { plan, pixels: await resizePixels(bytes, plan, timer) };
  await runSteps(ENCODE, output, timer);
  return output.bytes!;
}

/** Total naive time over total of ours: the per-image speed-up of a batch. */
export function batchSpeedup(results: PipelineResult[]): number {
  const sum = (f: (r: PipelineResult) => number) => results.reduce((a, r) => a + f(r), 0);
  return sum((r) => r.naiveMs) / sum((r) => r.oursMs);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** PSNR in dB of two RGBA pixel arrays over their colour channels. */
export function psnr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let sum = 0, n = 0;
  for (let i = 0; i < a.length; i++) {
    if (i % 4 === 3) continue;
    const d = a[i] - b[i];
    sum += d * d;
    n++;
  }
  return sum === 0 ? Infinity : 10 * Math.log10(255 * 255 * n / sum);
}
