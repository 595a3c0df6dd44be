/**
 * The last accept step: the record that makes an accepted job durable,
 * written before the client hears of it.
 *
 * @module
 */
import type { JobContext } from "../context.ts";
import type { JobRecord } from "../journal.ts";
import { recordOf } from "../output.ts";
import type { Admission } from "./job.ts";

/** Journals the accepted job; one whose source is ready to run is running from here on. */
export async function journalJob(ctx: JobContext, job: Admission): Promise<void> {
  const { id, request } = job;
  const running = job.source!.ready;
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
    owner: ctx.scheduler.owner,
    leaseUntil: now + ctx.config.jobs.leaseMs,
    callback: request.callbackURL ? { pending: true, attempts: 0 } : undefined,
  };
  await ctx.journal.put(record);
  job.record = record;
}
