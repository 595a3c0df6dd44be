/**
 * The accept step that answers the client's question before the work is
 * done: a flat placeholder of the result's size and format, uploaded to
 * the output's destination, its digest kept to recognise it later. The
 * placeholder of a size is made once and shared (placeholder_cache.ts). Its
 * undoing, when the request is refused after all, is withdrawPlaceholder
 * (settle.ts).
 *
 * @module
 */
import { placeholders } from "../../image/placeholder_cache.ts";
import { digestOf } from "../../transport/mod.ts";
import { type JobContext, writeOptions } from "../context.ts";
import { destinationOf, type Output, outputKey } from "../output.ts";
import type { Admission } from "./job.ts";

/** Uploads the output's placeholder, noting whether the destination's earlier file was kept aside. */
export async function placePlaceholder(ctx: JobContext, job: Admission, output: Output): Promise<void> {
  const { plan } = output;
  const { dstURL } = destinationOf(output);
  const placeholder = await placeholders.get(plan.format, plan.width, plan.height);
  const wrote = await ctx.transports.write(
    dstURL,
    placeholder,
    writeOptions(ctx, plan, { id: outputKey(job.id, output.index), stage: "placeholder" }, output.args),
  );
  output.kept = wrote.kept;
  // Only once it is there: a refused request removes what it placed (withdrawPlaceholder), nothing else.
  output.placeholder = digestOf(placeholder);
}
