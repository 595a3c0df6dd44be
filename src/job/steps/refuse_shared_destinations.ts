/**
 * The accept step that refuses two outputs with one destination (tags
 * filled in): the second would overwrite the first, and its placeholder
 * would be kept as the first one's earlier file.
 *
 * @module
 */
import { ImgserveError } from "../../../protocol/error_codes.ts";
import type { JobContext } from "../context.ts";
import { destinationOf } from "../output.ts";
import type { Admission } from "./job.ts";

/** Refuses two outputs whose destinations are one resource, as their transports tell it. */
export function refuseSharedDestinations(ctx: JobContext, job: Admission): void {
  const seen = new Map<string, number>();
  for (const [i, output] of job.outputs.entries()) {
    const key = ctx.transports.identity(destinationOf(output).dstURL, "destination");
    const first = seen.get(key);
    if (first !== undefined) {
      throw new ImgserveError(
        "DUPLICATE_DESTINATION",
        `outputs[${i}].dstURL names the same destination as outputs[${first}] once its tags are filled in; ` +
          "each output needs its own",
      );
    }
    seen.set(key, i);
  }
}
