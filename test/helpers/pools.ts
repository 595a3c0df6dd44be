/**
 * Worker pools for tests: one whose worker crashes on cue (see
 * fixtures/crashing_worker.ts), one output run the way the server runs
 * it, as a list of one, and the PNGs of red|green|blue thirds the pool's
 * tests give them, with their plans.
 *
 * @module
 */
import { WorkerPool } from "../../src/pool/pool.ts";
import { type OutputsOptions, type WorkResult } from "../../src/pool/task.ts";
import type { Plan } from "../../protocol/plan.ts";
import type { LocalSource } from "../../protocol/work.ts";
import { coverCrop } from "../../src/job/planner.ts";
import { png, thirds } from "./images.ts";

const MiB = 1024 * 1024;

/** A pool of one worker that crashes on a 13-pixel-wide result. */
export function crashingPool(): Promise<WorkerPool> {
  return WorkerPool.start({
    size: 1,
    fontDirs: [],
    taskTimeoutMs: 60_000,
    workerURL: new URL("../fixtures/crashing_worker.ts", import.meta.url),
  });
}

/**
 * Makes one output through {@linkcode WorkerPool.runOutputs}: its result,
 * or its error, thrown whether the whole attempt failed or the output alone.
 */
export async function runOne(
  pool: WorkerPool,
  plan: Plan,
  source: Uint8Array | LocalSource,
  options: OutputsOptions = {},
): Promise<WorkResult> {
  const [result] = await pool.runOutputs(source, [{ plan }], options);
  if (!result.ok) throw result.error;
  return result;
}

/** A resize plan for a 60x30 PNG: red|green|blue thirds. */
export function planFor(width: number, height: number): Plan {
  return thirdsPlan(60, 30, width, height);
}

/** A PNG of red|green|blue thirds, 60x30. */
export async function source(): Promise<Uint8Array<ArrayBuffer>> {
  return await png(thirds(60, 30));
}

function thirdsPlan(sourceWidth: number, sourceHeight: number, width: number, height: number): Plan {
  return {
    op: "resize",
    source: { format: "png", width: sourceWidth, height: sourceHeight, orientation: 1, hasAlpha: false },
    width,
    height,
    format: "png",
    quality: 85,
    mode: "cover",
    crop: coverCrop(sourceWidth, sourceHeight, width, height),
  };
}

/**
 * A job whose memory stays with its worker: a small PNG enlarged to a
 * 2400x1500 JPEG grows the JPEG encoder's memory by about 50 MiB. (A large
 * decode no longer does: its memory is given back before the encode.)
 */
export async function largePng(): Promise<{ bytes: Uint8Array<ArrayBuffer>; plan: Plan }> {
  const [width, height] = [60, 30];
  return {
    bytes: await png(thirds(width, height)),
    plan: {
      ...thirdsPlan(width, height, 2400, 1500),
      format: "jpeg",
      mode: "stretch",
      crop: { x: 0, y: 0, width, height },
    },
  };
}

/** The 60x30 PNG of {@linkcode source} and a 20x10 thumbnail of it. */
export async function smallPng(): Promise<{ bytes: Uint8Array<ArrayBuffer>; plan: Plan }> {
  return { bytes: await source(), plan: planFor(20, 10) };
}

/** WebAssembly memory each worker holds beyond a fresh one's, in MiB. */
export function grownMiB(pool: WorkerPool): number[] {
  return pool.memory.map((m) => (m.wasm - pool.fresh!.wasm) / MiB);
}
