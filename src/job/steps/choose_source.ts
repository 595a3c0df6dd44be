/**
 * The accept step that decides, once, where the source comes from when
 * the job runs: a local file a worker reads itself, or the bytes the
 * server downloads (see source.ts).
 *
 * @module
 */
import type { JobContext } from "../context.ts";
import { acceptedSource } from "../source.ts";
import type { Admission } from "./job.ts";

/** Decides, once, whether a worker reads the source itself or the server downloads it. */
export async function chooseSource(ctx: JobContext, job: Admission): Promise<void> {
  // One source serves every output, so any output's plan says whether it is a resize.
  job.source = await acceptedSource(ctx, job.request.srcURL, job.outputs[0].plan, job.download!);
}
