/**
 * The accept step that answers the client's question before the work is
 * done: a flat placeholder of the result's size and format, uploaded to
 * the output's destination, its digest kept to recognise it later.
 *
 * @module
 */
import { placeholderFor } from "../../image/placeholder.ts";
import { type JobContext, writeOptions } from "../context.ts";
import { digestOf } from "../originals.ts";
import { destinationOf, type Output } from "../output.ts";
import { outputKey } from "../outputs.ts";
import type { Admission } from "./job.ts";

/** Uploads the output's placeholder, noting whether the destination's earlier file was kept aside. */
export async function placePlaceholder(ctx: JobContext, job: Admission, output: Output): Promise<void> {
  const { plan } = output;
  const { dstURL } = destinationOf(output);
  const placeholder = await placeholderFor(plan.format, plan.width, plan.height);
  output.placeholder = digestOf(placeholder);
  const wrote = await ctx.transports.for(dstURL).write(
    dstURL,
    placeholder,
    writeOptions(ctx, plan, { id: outputKey(job.id, output.index), stage: "placeholder" }, output.args),
  );
  output.kept = wrote?.kept === true;
}
