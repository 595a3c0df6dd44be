/**
 * A task as the pool keeps track of it while it waits and runs, how a
 * caller asks for one, and what becomes of each of its outputs.
 *
 * @module
 */
import type { LocalSource, RunRequest, StageTimes } from "../../protocol/work.ts";
import { ImgserveError } from "../../protocol/error_codes.ts";
import { ownBuffer } from "../../shared/bytes.ts";

/** One output's result, as a destination stores it. */
export interface WorkResult {
  bytes: Uint8Array<ArrayBuffer>;
  times: StageTimes;
}

/**
 * What became of one output: its bytes (empty when the worker wrote
 * `writeTo` itself) and its stage times (the source's read and decode are
 * counted on the first output only), or the error of this output alone.
 * `size`: the encoded result's bytes, also when the worker stored it at `writeTo` and sent none back.
 */
export type OutputResult =
  | ({ ok: true; size: number } & WorkResult)
  | { ok: false; error: ImgserveError };

/** How {@linkcode WorkerPool.runOutputs} runs a task. */
export interface OutputsOptions {
  /**
   * Allowed for the decode and first output, then again for each next output (restarted at each handoff);
   * the pool's `taskTimeoutMs` when not given.
   */
  timeoutMs?: number;
  /** Wait for an idle worker rather than being sent ahead to a busy one. */
  alone?: boolean;
  /** Told of each output as soon as it is made, in list order. */
  onOutput?: (index: number, result: OutputResult) => void;
}

/** A task as the worker is sent it (protocol/work.ts), and what the pool keeps track of while it runs. */
export interface Task extends Omit<RunRequest, "type"> {
  /** Only for an idle worker, never sent ahead (a job already lost once that way). */
  alone: boolean;
  /** WebAssembly memory its plan needs (the largest output's), from protocol/plan_memory.ts. */
  need: number;
  /** When it was queued (performance.now()). */
  queuedAt: number;
  timeoutMs: number;
  /** What became of the outputs made so far. */
  results: OutputResult[];
  onOutput?: (index: number, result: OutputResult) => void;
  resolve: () => void;
  reject: (err: ImgserveError) => void;
}

/**
 * A job that went down with its worker before the worker reached it (it
 * was sent ahead; its bytes went with it). It never ran: the runner runs
 * it again at once (reading its source again if its bytes were lost),
 * spending no attempt, so it is not tied to the retries of the job that
 * brought the worker down.
 *
 * @example
 * ```ts
 * if (err instanceof JobNotStarted) return runAgain();
 * ```
 */
export class JobNotStarted extends ImgserveError {
  constructor(message: string) {
    super("WORKER_CRASHED", message);
  }
}

/**
 * Source bytes as a buffer to transfer (the caller's, when it is whole), or the local file the worker reads.
 *
 * @example
 * ```ts
 * const { bytes, readFrom } = taskSource(new Uint8Array([0x89, 0x50]));
 * ```
 */
export function taskSource(source: Uint8Array | LocalSource): { bytes?: ArrayBuffer; readFrom?: LocalSource } {
  if (!(source instanceof Uint8Array)) return { readFrom: source };
  return { bytes: ownBuffer(source) };
}
