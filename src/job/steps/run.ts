/**
 * Attempt steps up to the results: clear what earlier attempts left, take
 * the source, and make every output still pending from it, each handed
 * to {@linkcode deliver} as it is made.
 *
 * @module
 */
import { JobNotStarted } from "../../pool/task.ts";
import { type JobContext, transferOptions } from "../context.ts";
import { cleanUpAfter } from "../originals.ts";
import { destinationOf, type Output } from "../output.ts";
import { outputKey } from "../outputs.ts";
import { sinkFor } from "../sink.ts";
import { resumedSource } from "../source.ts";
import { deliver } from "./deliver.ts";
import type { Attempt } from "./job.ts";

/** Times outputs lost with a worker before they started are run again at once, without counting an attempt. */
const RERUNS = 3;

/** The outputs an attempt makes: those neither delivered nor failed for good. */
export function pendingOf(attempt: Attempt): Output[] {
  return attempt.outputs.filter((output) => output.state === "pending");
}

/** The placeholders of every output: a source that reads back as one of them is refused. */
function placeholdersOf(attempt: Attempt) {
  return attempt.outputs.flatMap((output) => output.placeholder ? [output.placeholder] : []);
}

/** For a job picked up again: removes the temporary files its earlier attempts left beside the destinations. */
export async function cleanUp(ctx: JobContext, attempt: Attempt): Promise<void> {
  if (attempt.fresh) return;
  for (const output of pendingOf(attempt)) {
    const key = outputKey(attempt.record.id, output.index);
    await cleanUpAfter(ctx.transports, destinationOf(output).dst, key, transferOptions(ctx), ctx.log);
  }
}

/** Takes the source: the file checked, or the bytes downloaded; either refused if it is one of our placeholders. */
export async function takeSource(ctx: JobContext, attempt: Attempt): Promise<void> {
  const pending = pendingOf(attempt);
  if (pending.length === 0) return; // every output ended before the job's record did
  attempt.source ??= resumedSource(ctx, new URL(attempt.record.request.srcURL), pending[0].plan);
  attempt.input = await attempt.source.take(placeholdersOf(attempt));
}

/**
 * Makes the pending outputs in the pool from the one source, delivering
 * each as it is made. Outputs lost with a worker before they started are
 * run again at once (the bytes read again, if they went down with the
 * worker), a few times at most.
 */
export async function run(ctx: JobContext, attempt: Attempt): Promise<void> {
  const pending = pendingOf(attempt);
  if (pending.length === 0) return;
  const { limits } = ctx.config;
  const timeoutMs = pending[0].plan.op === "rasterize" ? limits.renderTimeoutMs : limits.taskTimeoutMs;
  const sinks = pending.map((output) => sinkFor(ctx, outputKey(attempt.record.id, output.index), output));
  // One delivery at a time, in order, while the next output is being made.
  let delivering = Promise.resolve();
  let left = pending.map((_, k) => k);
  try {
    for (let again = 0;; again++) {
      const made = new Set<number>();
      try {
        // Run again only on an idle worker, so it cannot wait behind the crashing job a second time.
        await ctx.pool.runOutputs(attempt.input!, left.map((k) => ({ plan: pending[k].plan, ...sinks[k].local })), {
          timeoutMs,
          alone: again > 0,
          onOutput: (j, result) => {
            made.add(j);
            const k = left[j];
            delivering = delivering.then(() => deliver(ctx, attempt, pending[k], sinks[k], result));
          },
        });
        return;
      } catch (err) {
        if (!(err instanceof JobNotStarted) || again === RERUNS) throw err;
        left = left.filter((_, j) => !made.has(j));
        attempt.input = await attempt.source!.retake(placeholdersOf(attempt));
      }
    }
  } finally {
    await delivering;
  }
}
