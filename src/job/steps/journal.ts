/**
 * Steps that write a job's progress to the journal: the record that makes
 * an accepted job durable (before the client hears of it), and the mark
 * that an attempt is running.
 *
 * @module
 */
import type { JobContext } from "../context.ts";
import type { JobRecord } from "../../journal/mod.ts";
import { recordOf } from "../output.ts";
import { type Admission, type Attempt, STOP } from "./job.ts";

/**
 * Refuses a request before anything is written while the journal cannot
 * be written; costs nothing while it can (see Journal.assertWritable).
 */
export function checkJournal(ctx: JobContext, _job: Admission): Promise<void> {
  return ctx.journal.assertWritable();
}

/** Journals the accepted job; one whose source is ready to run is running from here on. */
export async function journal(ctx: JobContext, job: Admission): Promise<void> {
  const { id, request } = job;
  const kept = ctx.scheduler.keeps(); // else left in the journal for an idle server
  const running = job.source!.ready && kept;
  const now = Date.now();
  const record: JobRecord = {
    id,
    state: running ? "running" : "queued",
    startedAt: running ? now : undefined,
    outputs: job.outputs.map(recordOf),
    request: {
      operationType: request.operationType,
      srcURL: request.srcURL.href,
      outputs: request.outputs,
      multi: request.multi || undefined,
      callbackURL: request.callbackURL?.href,
    },
    attempts: 1,
    acceptedAt: now,
    owner: kept ? ctx.scheduler.owner : undefined,
    leaseUntil: kept ? now + ctx.config.jobs.leaseMs : undefined,
    callback: request.callbackURL ? { pending: true, attempts: 0 } : undefined,
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
