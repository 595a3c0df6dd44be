/**
 * The attempt step that journals the attempt as running, and ends it
 * quietly when the job's lease was lost meanwhile.
 *
 * @module
 */
import type { JobContext } from "../context.ts";
import { type Attempt, STOP } from "./job.ts";

/** Journals the attempt as running, unless accepting or claiming it already did; stops if the lease was lost. */
export async function markRunning(ctx: JobContext, attempt: Attempt): Promise<void | typeof STOP> {
  const { record } = attempt;
  if (attempt.journaledRunning) return;
  if (!(await ctx.journal.update(record.id, ctx.scheduler.owner, { state: "running", startedAt: Date.now() }))) {
    return STOP;
  }
}
