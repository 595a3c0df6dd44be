/**
 * The attempt step that records how an attempt ended. Each output it
 * failed is tried again on the next attempt when its failure may pass and
 * attempts remain (see retry.ts), or else failed for good, its earlier
 * file put back. The job is done when every output is, failed when none
 * is left to retry and one failed (see jobError in output.ts for its
 * error). A job that ends is counted and its callback sent (notify.ts).
 *
 * @module
 */
import { type ImgserveError } from "../../../protocol/error_codes.ts";
import { asImgserveError } from "../../errors.ts";
import type { JobContext } from "../context.ts";
import type { JobRecord } from "../../journal/mod.ts";
import { jobError, recordOf } from "../output.ts";
import { backoffMs, retriesJob } from "../retry.ts";
import { settle } from "../settle.ts";
import { notify } from "./notify.ts";
import { jobEvent } from "../log_event.ts";
import { type Attempt, STOP } from "./job.ts";

/** Journals how the attempt ended; stops (no callback yet) when it is retried or the lease was lost. */
export function recordOutcome(ctx: JobContext, attempt: Attempt): Promise<void | typeof STOP> {
  return conclude(ctx, attempt);
}

/** After an attempt failed as a whole (the source, the worker): every output not yet done failed with it. */
export async function retryOrFail(ctx: JobContext, attempt: Attempt, err: unknown): Promise<void> {
  if (!ctx.scheduler.accepting) return; // the lease goes back to the journal in stop()
  const error = asImgserveError(err);
  for (const output of attempt.outputs) {
    if (output.state === "pending" && !attempt.failures.has(output)) attempt.failures.set(output, error);
  }
  if (await conclude(ctx, attempt, error) !== STOP) notify(ctx, attempt);
}

async function conclude(ctx: JobContext, attempt: Attempt, whole?: ImgserveError): Promise<void | typeof STOP> {
  const { record } = attempt;
  const { id } = record;
  const { jobs } = ctx.config;
  if (attempt.lost) return STOP;
  // Every journal write below is conditional on the lease; putting back a destination's earlier file is not, so the
  // journal is asked first only when there is one to put back (nothing put back over the new owner's).
  const putsBack = [...attempt.failures].some(([output, error]) =>
    output.kept && !retriesJob(error, record.attempts, jobs.maxAttempts)
  );
  if (putsBack && !(await ctx.journal.holds(id, ctx.scheduler.owner))) return STOP;
  let retried: ImgserveError | undefined;
  for (const [output, error] of attempt.failures) {
    output.error = { code: error.code, message: error.message };
    if (retriesJob(error, record.attempts, jobs.maxAttempts)) {
      retried ??= error;
      continue;
    }
    output.state = "failed";
    if (output.kept) await settle(ctx, id, output, "failed");
    output.kept = false;
  }
  const outputs = attempt.outputs.map(recordOf);
  if (retried) {
    const error = whole ?? retried;
    const delay = backoffMs(jobs.retryBaseMs, record.attempts);
    const scheduled = await ctx.journal.update(id, ctx.scheduler.owner, {
      state: "queued",
      attempts: record.attempts + 1,
      retryAt: Date.now() + delay,
      error: { code: error.code, message: error.message },
      outputs,
      owner: undefined,
      leaseUntil: undefined,
    });
    if (scheduled) {
      ctx.metrics.retries.inc();
      ctx.log?.(
        jobEvent("job retried", { ...record, error: { code: error.code, message: error.message } }, {
          retry_in_ms: delay,
        }),
      );
    }
    return STOP;
  }
  const error = jobError(outputs, record.request.multi === true, whole);
  // Cancelled: the outputs not delivered ended as a failed job's do, the job is told apart by its state and code.
  const end: Partial<JobRecord> = whole?.name === "CANCELLED" && error
    ? { state: "cancelled", finishedAt: Date.now(), error: { code: whole!.code, message: whole!.message } }
    : error
    ? { state: "failed", finishedAt: Date.now(), error }
    : { state: "done", finishedAt: Date.now(), error: undefined };
  if (!(await ctx.journal.update(id, ctx.scheduler.owner, { ...end, outputs }))) return STOP;
  attempt.record = { ...record, ...end, outputs };
  ctx.log?.(jobEvent(`job ${attempt.record.state}`, attempt.record));
}
