/**
 * The accept step that fills in one output's dstURL {$tags} from its plan
 * and the source's name.
 *
 * @module
 */
import type { JobContext } from "../context.ts";
import type { Output } from "../output.ts";
import { extensionOf } from "../planner.ts";
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
    frames: plan.animated ? plan.source.frames : 1,
  });
  output.dstURL = parseDestination(output.dst);
}
