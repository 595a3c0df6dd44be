/**
 * Accept steps on one output's destination: its {$tags} filled in from
 * the plan and the source's name, and the refusal of a destination that is
 * the source itself.
 *
 * @module
 */
import type { JobContext } from "../context.ts";
import { refuseInPlace as refuseSameFile } from "../originals.ts";
import { destinationOf, type Output } from "../output.ts";
import { extensionOf } from "../plan.ts";
import { refuseSharedDestinations as refuseShared } from "../outputs.ts";
import { nameParts, parseDestination, substituteTags } from "../template.ts";
import type { Admission } from "./job.ts";

/** Fills in the output's dstURL tags: the result's size and format, the source's name. */
export function fillTags(_ctx: JobContext, job: Admission, output: Output): void {
  const { plan } = output;
  output.dst = substituteTags(output.dstTemplate, {
    width: plan.width,
    height: plan.height,
    ...nameParts(job.request.srcURL),
    format: extensionOf(plan.format),
  });
  output.dstURL = parseDestination(output.dst);
}

/** Refuses two outputs with one destination (see outputs.ts). */
export function refuseSharedDestinations(ctx: JobContext, job: Admission): void {
  refuseShared(ctx.transports, job.outputs.map((output) => destinationOf(output).dstURL));
}

/** Refuses an output that would overwrite the source (see originals.ts). */
export function refuseInPlace(ctx: JobContext, job: Admission, output: Output): void {
  refuseSameFile(ctx.transports, job.request.srcURL, destinationOf(output).dstURL, job.source!.file);
}
