/**
 * The attempt step that makes every pending output in the pool from the
 * one source taken. It returns as soon as the work is under way: each
 * output joins {@linkcode Attempt.made} as it is made, for the deliver
 * step to store while the next one is being made.
 *
 * @module
 */
import { JobNotStarted } from "../../pool/task.ts";
import type { JobContext } from "../context.ts";
import { type Output, outputKey } from "../output.ts";
import { type ResultSink, sinkFor } from "../sink.ts";
import { type Attempt, type Made, type MadeOutputs, pendingOf, placeholdersOf } from "./job.ts";

/** Times outputs lost with a worker before they started are run again at once, without counting an attempt. */
const RERUNS = 3;

/** Starts making the pending outputs; deliver takes them from `attempt.made`. */
export function run(ctx: JobContext, attempt: Attempt): void {
  const pending = pendingOf(attempt);
  if (pending.length === 0) return;
  const sinks = pending.map((output) => sinkFor(ctx, outputKey(attempt.record.id, output.index), output));
  let queue!: ReadableStreamDefaultController<Made>;
  const results = new ReadableStream<Made>({ start: (controller) => void (queue = controller) });
  const ended: MadeOutputs["ended"] = makeAll(ctx, attempt, pending, sinks, (made) => queue.enqueue(made))
    .then(() => ({ failed: false as const }), (error) => ({ failed: true as const, error }))
    .finally(() => {
      ctx.scheduler.release(attempt.record.id); // its worker is free for the next job while this one is delivered
      queue.close();
    });
  attempt.made = { results, ended };
}

/**
 * Makes the outputs from the one source, handing each over as it is made.
 * Outputs lost with a worker before they started are run again at once
 * (the bytes read again, if they went down with the worker), a few times
 * at most.
 */
async function makeAll(
  ctx: JobContext,
  attempt: Attempt,
  pending: Output[],
  sinks: ResultSink[],
  handOver: (made: Made) => void,
): Promise<void> {
  const { limits } = ctx.config;
  const timeoutMs = pending[0].plan.op === "rasterize" ? limits.renderTimeoutMs : limits.taskTimeoutMs;
  let left = pending.map((_, k) => k);
  for (let again = 0;; again++) {
    const made = new Set<number>();
    try {
      // Run again only on an idle worker, so it cannot wait behind the crashing job a second time.
      await ctx.pool.runOutputs(attempt.input!, left.map((k) => ({ plan: pending[k].plan, ...sinks[k].local })), {
        timeoutMs,
        alone: again > 0,
        signal: attempt.signal,
        onOutput: (j, result) => {
          made.add(j);
          const k = left[j];
          handOver({ output: pending[k], sink: sinks[k], result });
        },
      });
      return;
    } catch (err) {
      if (!(err instanceof JobNotStarted) || again === RERUNS) throw err;
      left = left.filter((_, j) => !made.has(j));
      attempt.input = await attempt.source!.retake(placeholdersOf(attempt));
    }
  }
}
