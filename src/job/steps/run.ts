/**
 * Attempt steps up to the result: clear what earlier attempts left, take
 * the source, and run each output's plan in the worker pool.
 *
 * @module
 */
import { JobNotStarted } from "../../pool.ts";
import { type JobContext, transferOptions } from "../context.ts";
import { cleanUpAfter } from "../originals.ts";
import type { Output } from "../output.ts";
import { sinkFor } from "../sink.ts";
import { resumedSource } from "../source.ts";
import type { Attempt } from "./job.ts";

/** Times a job lost with a worker before it started is run again at once, without counting an attempt. */
const RERUNS = 3;

/** For a job picked up again: removes the temporary files its earlier attempts left beside the destination. */
export async function cleanUp(ctx: JobContext, attempt: Attempt): Promise<void> {
  if (attempt.fresh) return;
  await cleanUpAfter(ctx.transports, attempt.record, transferOptions(ctx), ctx.log);
}

/** Takes the source: the file checked, or the bytes downloaded; either refused if it is our own placeholder. */
export async function takeSource(ctx: JobContext, attempt: Attempt): Promise<void> {
  const { record } = attempt;
  attempt.source ??= resumedSource(ctx, new URL(record.request.srcURL), record.plan);
  attempt.input = await attempt.source.take(record.placeholder);
}

/**
 * Runs one output's plan in the pool. A job lost with a worker before it
 * started is run again at once (its bytes read again, if they went down
 * with the worker), a few times at most.
 */
export async function run(ctx: JobContext, attempt: Attempt, output: Output): Promise<void> {
  const { plan } = output;
  const { limits } = ctx.config;
  const timeoutMs = plan.op === "rasterize" ? limits.renderTimeoutMs : limits.taskTimeoutMs;
  const sink = sinkFor(ctx, attempt.record.id, output);
  for (let again = 0;; again++) {
    try {
      // Run again only on an idle worker, so it cannot wait behind the crashing job a second time.
      const result = await ctx.pool.run(plan, attempt.input!, { timeoutMs, ...sink.local, alone: again > 0 });
      attempt.results.set(output, { sink, result });
      return;
    } catch (err) {
      if (!(err instanceof JobNotStarted) || again === RERUNS) throw err;
      attempt.input = await attempt.source!.retake(attempt.record.placeholder);
    }
  }
}
