/**
 * The attempt step that takes the source once for every pending output:
 * the checked file a worker reads, or the downloaded bytes.
 *
 * @module
 */
import type { JobContext } from "../context.ts";
import { resumedSource } from "../source.ts";
import { type Attempt, pendingOf, placeholdersOf } from "./job.ts";

/** Takes the source: the file checked, or the bytes downloaded; either refused if it is one of our placeholders. */
export async function takeSource(ctx: JobContext, attempt: Attempt): Promise<void> {
  const pending = pendingOf(attempt);
  if (pending.length === 0) return; // every output ended before the job's record did
  attempt.source ??= resumedSource(ctx, new URL(attempt.record.request.srcURL), pending[0].plan);
  attempt.input = await attempt.source.take(placeholdersOf(attempt));
}
