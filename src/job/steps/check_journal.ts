/**
 * The first accept step: a request is refused before anything is written
 * while the journal cannot be written.
 *
 * @module
 */
import type { JobContext } from "../context.ts";
import type { Admission } from "./job.ts";

/** Refuses the request while the journal is unwritable; costs nothing while it can (see Journal.assertWritable). */
export function checkJournal(ctx: JobContext, _job: Admission): Promise<void> {
  return ctx.journal.assertWritable();
}
