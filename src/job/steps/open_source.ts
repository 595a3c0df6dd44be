/**
 * The accept step that opens the source's download, bounded in time
 * (see downloadSource); the next step reads only its header.
 *
 * @module
 */
import { downloadSource, type JobContext } from "../context.ts";
import type { Admission } from "./job.ts";

/** Opens the source's download. */
export async function openSource(ctx: JobContext, job: Admission): Promise<void> {
  job.download = { stream: await downloadSource(ctx, job.request.srcURL), prefix: [] };
}
