/**
 * Steps that write a job's progress to the journal: the record that makes
 * an accepted job durable (before the client hears of it), and the mark
 * that an attempt is running.
 *
 * @module
 */
import type { JobContext } from "../context.ts";
import type { JobRecord } from "../journal.ts";
import { destinationOf } from "../output.ts";
import { type Admission, type Attempt, STOP } from "./job.ts";

/** Journals the accepted job; one whose source is ready to run is running from here on. */
export async function journal(ctx: JobContext, job: Admission): Promise<void> {
  const { id, request } = job;
  const running = job.source!.ready;
  // The record holds one output, the request's own.
  const [output] = job.outputs;
  const { dst } = destinationOf(output);
  const now = Date.now();
  const record: JobRecord = {
    id,
    state: running ? "running" : "queued",
    startedAt: running ? now : undefined,
    dstURL: dst,
    width: output.plan.width,
    height: output.plan.height,
    plan: output.plan,
    request: {
      operationType: request.operationType,
      srcURL: request.srcURL.href,
      dstTemplate: request.dstTemplate,
      args: request.args,
      callbackURL: request.callbackURL?.href,
    },
    attempts: 1,
    acceptedAt: now,
    owner: ctx.scheduler.owner,
    leaseUntil: now + ctx.config.jobs.leaseMs,
    callback: request.callbackURL ? { pending: true, attempts: 0 } : undefined,
    placeholder: output.placeholder,
    kept: output.kept || undefined,
  };
  await ctx.journal.put(record);
  job.record = record;
}

/** Journals the attempt as running, unless accepting it already did; stops if the lease was lost. */
export async function markRunning(ctx: JobContext, attempt: Attempt): Promise<void | typeof STOP> {
  const { record } = attempt;
  if (attempt.fresh && record.state === "running") return;
  if (!(await ctx.journal.update(record.id, ctx.scheduler.owner, { state: "running", startedAt: Date.now() }))) {
    return STOP;
  }
}
