/**
 * A task as the pool keeps track of it while it waits and runs, how a
 * caller asks for one, and what becomes of each of its outputs.
 *
 * @module
 */
import type { LocalSource, OutputOrder, RunRequest, StageTimes } from "../../protocol/work.ts";
import { planMemoryBytes } from "../../protocol/plan_memory.ts";
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
  /** Cancels the task: taken off the queue if waiting, its worker ended if running; it rejects with the reason. */
  signal?: AbortSignal;
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
  /** Cancelled while sent ahead to a busy worker: that worker is ended when it reaches it. */
  cancelled?: boolean;
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
 * A task as it is queued: its source's bytes (to transfer) or local file,
 * and the memory its heaviest plan needs; `resolve` is given its results.
 *
 * @example
 * ```ts
 * const task = newTask(1, bytes, [{ plan }], { timeoutMs: 60_000 }, resolve, reject);
 * ```
 */
export function newTask(
  id: number,
  source: Uint8Array | LocalSource,
  outputs: OutputOrder[],
  options: OutputsOptions & { timeoutMs: number },
  resolve: (results: OutputResult[]) => void,
  reject: (err: ImgserveError) => void,
): Task {
  const task: Task = {
    id,
    ...taskSource(source),
    timeoutMs: options.timeoutMs,
    alone: options.alone ?? false,
    need: Math.max(...outputs.map((output) => planMemoryBytes(output.plan))),
    queuedAt: performance.now(),
    outputs,
    results: [],
    onOutput: options.onOutput,
    resolve: () => resolve(task.results),
    reject,
  };
  return task;
}

/** Source bytes as a buffer to transfer (the caller's, when it is whole), or the local file the worker reads. */
function taskSource(source: Uint8Array | LocalSource): { bytes?: ArrayBuffer; readFrom?: LocalSource } {
  if (!(source instanceof Uint8Array)) return { readFrom: source };
  return { bytes: ownBuffer(source) };
}
