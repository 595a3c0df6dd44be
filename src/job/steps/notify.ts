/**
 * The last attempt step: a job that ended is counted, and its callback
 * sent apart from the job, so a dead endpoint holds up nothing.
 *
 * @module
 */
import { deliverCallback } from "../callback.ts";
import type { JobContext } from "../context.ts";
import type { Attempt } from "./job.ts";

/** Counts the finished job and sends its callback, apart from the job so a dead endpoint holds up nothing. */
export function notify(ctx: JobContext, attempt: Attempt): void {
  const { record } = attempt;
  ctx.metrics.jobs.inc({ state: record.state });
  ctx.metrics.jobDuration.observe(((record.finishedAt ?? Date.now()) - record.acceptedAt) / 1000);
  if (record.callback?.pending && ctx.scheduler.accepting) {
    ctx.scheduler.track(`${record.id}:callback`, deliverCallback(ctx, record), false);
  }
}
