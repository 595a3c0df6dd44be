/**
 * Putting one output's result in place of its placeholder as soon as it
 * is made, then letting go of the destination's earlier file and
 * journaling the output as done, so no later attempt makes it again.
 *
 * @module
 */
import { asImgserveError } from "../../errors.ts";
import { type JobContext, transferOptions } from "../context.ts";
import { settleKept } from "../originals.ts";
import { destinationOf, type Output, recordOf } from "../output.ts";
import { outputKey } from "../outputs.ts";
import type { OutputResult } from "../../pool.ts";
import type { ResultSink } from "../sink.ts";
import type { Attempt } from "./job.ts";

/**
 * Stores the output's result (uploaded, or already written by the worker),
 * settles its kept file and journals it done; a failure, the output's own
 * or its upload's, is noted on the attempt.
 */
export async function deliver(
  ctx: JobContext,
  attempt: Attempt,
  output: Output,
  sink: ResultSink,
  result: OutputResult,
): Promise<void> {
  try {
    if (!result.ok) throw result.error;
    // A server that lost the job (paused past its lease) must not put its result over the new owner's.
    if (attempt.lost || !(await ctx.journal.holds(attempt.record.id, ctx.scheduler.owner))) {
      attempt.lost = true;
      return;
    }
    await sink.store(result);
    const { size } = result;
    if (output.kept) await settle(ctx, attempt.record.id, output, "done");
    Object.assign(output, { state: "done", size, times: result.times, error: undefined, kept: false });
    // The outcome's own journal write follows the last output at once: one KV commit per job fewer, as before outputs.
    if (attempt.outputs.some((other) => other.state === "pending")) {
      await ctx.journal.update(attempt.record.id, ctx.scheduler.owner, { outputs: attempt.outputs.map(recordOf) });
    }
  } catch (err) {
    attempt.failures.set(output, asImgserveError(err));
  }
}

/** Deletes (done) or puts back (failed) the file an output's placeholder kept aside. */
export async function settle(ctx: JobContext, id: string, output: Output, outcome: "done" | "failed"): Promise<void> {
  const { dstURL } = destinationOf(output);
  await settleKept(ctx.transports, dstURL, outputKey(id, output.index), outcome, transferOptions(ctx), ctx.log);
}
