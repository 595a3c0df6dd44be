/**
 * Where a job's result goes, decided once: a file on this machine, which
 * the worker writes itself under the job's temporary name, or an upload
 * through the destination's transport. Steps use a {@linkcode ResultSink}
 * without asking which it is.
 *
 * @module
 */
import type { WorkResult } from "../pool/task.ts";
import { type TransferContext, writeOptions } from "./context.ts";
import { destinationOf, type Output } from "./output.ts";

/** Where one output's result is stored. */
export interface ResultSink {
  /** For a worker that writes the result itself: the checked path and its temporary name. */
  readonly local: { writeTo?: string; writeTemp?: string };
  /** Stores the result the pool returned; nothing is left to do when the worker wrote it. */
  store(result: WorkResult): Promise<void>;
}

/** The sink of one output of job `id`. */
export function sinkFor(ctx: TransferContext, id: string, output: Output): ResultSink {
  const job = { id, stage: "result" } as const;
  const { dstURL } = destinationOf(output);
  const local = ctx.transports.localDestination(dstURL, job);
  if (local) return { local: { writeTo: local.path, writeTemp: local.temp }, store: () => Promise.resolve() };
  return {
    local: {},
    store: async (result) => {
      await ctx.transports.write(dstURL, result.bytes, writeOptions(ctx, output.plan, job, output.args));
    },
  };
}
