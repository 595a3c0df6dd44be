/**
 * The attempt step that puts each output's result in place of its
 * placeholder as soon as the pool has made it, then lets go of the
 * destination's earlier file and journals the output as done, so no later
 * attempt makes it again. One delivery at a time, in order.
 *
 * @module
 */
import { asImgserveError } from "../../errors.ts";
import type { JobContext } from "../context.ts";
import { type Output, recordOf } from "../output.ts";
import type { OutputResult } from "../../pool/task.ts";
import type { ResultSink } from "../sink.ts";
import { settle } from "../settle.ts";
import type { Attempt } from "./job.ts";

/**
 * Delivers every output of the run as it is made; once the run has ended
 * and every output made is delivered, a failure of the run as a whole is
 * thrown (the attempt is retried or failed).
 */
export async function deliver(ctx: JobContext, attempt: Attempt): Promise<void> {
  const { made } = attempt;
  if (!made) return;
  for await (const { output, sink, result } of made.results) await deliverOne(ctx, attempt, output, sink, result);
  const ended = await made.ended;
  if (ended.failed) throw ended.error;
}

/**
 * Stores the output's result (uploaded, or already written by the worker),
 * settles its kept file and journals it done; a failure, the output's own
 * or its upload's, is noted on the attempt.
 */
async function deliverOne(
  ctx: JobContext,
  attempt: Attempt,
  output: Output,
  sink: ResultSink,
  result: OutputResult,
): Promise<void> {
  try {
    if (!result.ok) throw result.error;
    attempt.signal?.throwIfAborted(); // made before the cancel, not yet delivered: not delivered
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
