/**
 * The accept step that answers the client's question before the work is
 * done: a flat placeholder of the result's size and format, uploaded to
 * the output's destination, its digest kept to recognise it later; and
 * its undoing when the request is refused after all.
 *
 * @module
 */
import { placeholderFor } from "../../image/placeholder.ts";
import { type JobContext, transferOptions, writeOptions } from "../context.ts";
import { digestOf, removePlaceholder } from "../originals.ts";
import { destinationOf, type Output } from "../output.ts";
import { outputKey } from "../outputs.ts";
import { settle } from "./deliver.ts";
import type { Admission } from "./job.ts";

/** Uploads the output's placeholder, noting whether the destination's earlier file was kept aside. */
export async function placePlaceholder(ctx: JobContext, job: Admission, output: Output): Promise<void> {
  const { plan } = output;
  const { dstURL } = destinationOf(output);
  const placeholder = await placeholderFor(plan.format, plan.width, plan.height);
  const wrote = await ctx.transports.for(dstURL).write(
    dstURL,
    placeholder,
    writeOptions(ctx, plan, { id: outputKey(job.id, output.index), stage: "placeholder" }, output.args),
  );
  output.kept = wrote?.kept === true;
  // Only once it is there: a refused request removes what it placed (withdrawPlaceholder), nothing else.
  output.placeholder = digestOf(placeholder);
}

/**
 * After a refused request, the output's destination as it was before: its
 * earlier file put back over the placeholder, or else the placeholder
 * removed where the transport can (see removePlaceholder in originals.ts).
 */
export async function withdrawPlaceholder(ctx: JobContext, id: string, output: Output): Promise<void> {
  if (output.kept) return await settle(ctx, id, output, "failed");
  if (!output.placeholder) return;
  const key = outputKey(id, output.index);
  await removePlaceholder(
    ctx.transports,
    destinationOf(output).dstURL,
    key,
    output.placeholder,
    transferOptions(ctx),
    ctx.log,
  );
}
