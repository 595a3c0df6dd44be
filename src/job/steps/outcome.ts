/**
 * How an attempt ends: done, journaled with the worker's times; or failed,
 * and then either scheduled again (a passing failure with attempts left,
 * see retry.ts) or failed for good, earlier files put back. A job that
 * ends is counted and its callback sent.
 *
 * @module
 */
import { asImgserveError } from "../../errors.ts";
import { deliverCallback } from "../callback.ts";
import type { JobContext } from "../context.ts";
import type { JobRecord } from "../journal.ts";
import { backoffMs, retriesJob } from "../retry.ts";
import { settle } from "./deliver.ts";
import { type Attempt, STOP } from "./job.ts";

/** Journals the job as done; stops if the lease was lost. */
export async function recordDone(ctx: JobContext, attempt: Attempt): Promise<void | typeof STOP> {
  // The worker's stage times of the job's one output.
  const times = attempt.results.get(attempt.outputs[0])?.result.times;
  const done = { state: "done", finishedAt: Date.now(), times, error: undefined } as const;
  if (!(await ctx.journal.update(attempt.record.id, ctx.scheduler.owner, done))) return STOP;
  attempt.record = { ...attempt.record, ...done };
}

/** Counts the finished job and sends its callback, apart from the job so a dead endpoint holds up nothing. */
export function notify(ctx: JobContext, attempt: Attempt): void {
  const { record } = attempt;
  ctx.metrics.jobs.inc({ state: record.state });
  ctx.metrics.jobDuration.observe(((record.finishedAt ?? Date.now()) - record.acceptedAt) / 1000);
  if (record.callback?.pending && ctx.scheduler.accepting) {
    ctx.scheduler.track(`${record.id}:callback`, deliverCallback(ctx, record));
  }
}

/** After a failed attempt: schedules the next one, or fails the job for good. */
export async function retryOrFail(ctx: JobContext, attempt: Attempt, err: unknown): Promise<void> {
  if (!ctx.scheduler.accepting) return; // the lease goes back to the journal in stop()
  const { record } = attempt;
  const { id } = record;
  const error = asImgserveError(err);
  const { jobs } = ctx.config;
  if (retriesJob(error, record.attempts, jobs.maxAttempts)) {
    const delay = backoffMs(jobs.retryBaseMs, record.attempts);
    ctx.metrics.retries.inc();
    ctx.log?.(`job ${id} attempt ${record.attempts} failed (${error.message}); retrying in ${delay} ms`);
    await ctx.journal.update(id, ctx.scheduler.owner, {
      state: "queued",
      attempts: record.attempts + 1,
      retryAt: Date.now() + delay,
      error: { code: error.code, message: error.message },
      owner: undefined,
      leaseUntil: undefined,
    });
    return;
  }
  const failed: Partial<JobRecord> = {
    state: "failed",
    finishedAt: Date.now(),
    error: { code: error.code, message: error.message },
  };
  for (const output of attempt.outputs) if (output.kept) await settle(ctx, id, output, "failed");
  if (!(await ctx.journal.update(id, ctx.scheduler.owner, failed))) return;
  attempt.record = { ...record, ...failed };
  notify(ctx, attempt);
}
