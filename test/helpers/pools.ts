/**
 * Worker pools for tests: one whose worker crashes on cue (see
 * fixtures/crashing_worker.ts), and one output run the way the server runs
 * it, as a list of one.
 *
 * @module
 */
import { WorkerPool } from "../../src/pool/pool.ts";
import { type OutputsOptions, type WorkResult } from "../../src/pool/task.ts";
import type { Plan } from "../../protocol/plan.ts";
import type { LocalSource } from "../../protocol/work.ts";

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
