/**
 * The first attempt step of a job picked up again (a retry, or taken over
 * from a dead server): the temporary files its earlier attempts left
 * beside the destinations are removed by their transports.
 *
 * @module
 */
import { type JobContext, transferOptions } from "../context.ts";
import { destinationOf, outputKey } from "../output.ts";
import { type Attempt, pendingOf } from "./job.ts";

/** For a job picked up again: removes what its earlier attempts left beside each pending destination. Never throws. */
export async function cleanUp(ctx: JobContext, attempt: Attempt): Promise<void> {
  if (attempt.fresh) return;
  for (const output of pendingOf(attempt)) {
    const key = outputKey(attempt.record.id, output.index);
    try {
      await ctx.transports.cleanUp(new URL(destinationOf(output).dst), key, transferOptions(ctx));
    } catch (err) {
      ctx.log?.(`job ${key}: could not remove earlier temporary files: ${(err as Error).message}`);
    }
  }
}
