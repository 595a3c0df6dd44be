/**
 * The attempt step that puts one output's result in place of its
 * placeholder, then lets go of the destination's earlier file.
 *
 * @module
 */
import { type JobContext, transferOptions } from "../context.ts";
import { settleKept } from "../originals.ts";
import { destinationOf, type Output } from "../output.ts";
import type { Attempt } from "./job.ts";

/** Stores the output's result (uploaded, or already written by the worker) and settles its kept file. */
export async function deliver(ctx: JobContext, attempt: Attempt, output: Output): Promise<void> {
  const { sink, result } = attempt.results.get(output)!;
  await sink.store(result);
  if (output.kept) await settle(ctx, attempt.record.id, output, "done");
}

/** Deletes (done) or puts back (failed) the file an output's placeholder kept aside. */
export async function settle(ctx: JobContext, id: string, output: Output, outcome: "done" | "failed"): Promise<void> {
  await settleKept(ctx.transports, destinationOf(output).dstURL, id, outcome, transferOptions(ctx), ctx.log);
}
