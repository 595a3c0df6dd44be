/**
 * The last accept step: the record that makes an accepted job durable,
 * written before the client hears of it.
 *
 * @module
 */
import type { JobContext } from "../context.ts";
import type { JobRecord } from "../../journal/mod.ts";
import { recordOf } from "../output.ts";
import type { Admission } from "./job.ts";

/** Journals the accepted job; one whose source is ready to run is running from here on. */
export async function journalJob(ctx: JobContext, job: Admission): Promise<void> {
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
