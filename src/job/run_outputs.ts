/**
 * Several outputs from one source, in the shape of the pool's own
 * multi-output call: made one at a time through `pool.run`, each on its
 * own copy of the source bytes (the pool takes the buffer it is given).
 *
 * @module
 */
import { ImgserveError } from "../errors.ts";
import { JobNotStarted, type WorkerPool } from "../pool.ts";
import type { StageTimes } from "../../workers/ops/timer.ts";
import type { LocalSource } from "../transport/mod.ts";
import type { Plan } from "./plan.ts";

/** One output to make: its plan, and where a worker writes it itself (a checked local path). */
export interface OutputTask {
  plan: Plan;
  writeTo?: string;
  writeTemp?: string;
}

/** One output made, or why it was not. */
export type OutputResult =
  | { ok: true; bytes: Uint8Array<ArrayBuffer>; times: StageTimes }
  | { ok: false; error: ImgserveError };

/** Errors about the source or the worker rather than one output: they end the whole attempt. */
const WHOLE_ATTEMPT = new Set<string>([
  "DECODE_FAILED",
  "WORKER_CRASHED",
  "SHUTTING_DOWN",
  "PROCESSING_TIMEOUT",
  "TOO_MANY_PIXELS",
  "SVG_TOO_LARGE",
]);

/**
 * Makes each output in order, telling `onOutput` of each as it is made.
 * Rejects, as `pool.run` does, on a failure of the whole attempt (the
 * source, the worker, a job not started); an output's own failure is its
 * result.
 *
 * @example
 * ```ts
 * const results = await runOutputs(pool, bytes, [{ plan: large }, { plan: thumb }], { timeoutMs: 30_000 });
 * ```
 */
export async function runOutputs(
  pool: WorkerPool,
  source: Uint8Array | LocalSource,
  outputs: OutputTask[],
  options: { timeoutMs: number; alone?: boolean; onOutput?: (index: number, result: OutputResult) => void },
): Promise<OutputResult[]> {
  const results: OutputResult[] = [];
  for (const [index, task] of outputs.entries()) {
    const last = index === outputs.length - 1;
    const input = source instanceof Uint8Array && !last ? source.slice() : source;
    let result: OutputResult;
    try {
      result = {
        ok: true,
        ...await pool.run(task.plan, input, { ...task, timeoutMs: options.timeoutMs, alone: options.alone }),
      };
    } catch (err) {
      const whole = err instanceof JobNotStarted || !(err instanceof ImgserveError) || WHOLE_ATTEMPT.has(err.name) ||
        err.name.startsWith("SOURCE_");
      if (whole) throw err;
      result = { ok: false, error: err };
    }
    results.push(result);
    options.onOutput?.(index, result);
  }
  return results;
}
