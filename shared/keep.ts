/**
 * The hidden names imgserve gives its own files beside a destination: the
 * bytes on their way in, and the file that was there before a job, kept
 * until the job ends. Each name carries the job's id, so a server taking a
 * job over knows exactly which leftovers are that job's (and nobody else's)
 * without listing the folder.
 *
 * @module
 */
import { beside } from "./paths.ts";

/** Which upload of a job a temporary file belongs to. */
export type WriteStage = "placeholder" | "result";

/** The job an upload belongs to, for the names of its files. */
export interface JobWrite {
  /** The job's id (a UUID from the journal). */
  id: string;
  stage: WriteStage;
}

/** Every name of ours starts so; nobody else is expected to use it. */
export const OUR_PREFIX = ".imgserve-";

/**
 * The temporary name for one upload of a job; without a job, a random one.
 *
 * @example
 * ```ts
 * tempName({ id: "0b6…", stage: "result" }); // ".imgserve-0b6….result.tmp"
 * ```
 */
export function tempName(job?: JobWrite): string {
  return job ? `${OUR_PREFIX}${job.id}.${job.stage}.tmp` : `${OUR_PREFIX}${crypto.randomUUID()}.tmp`;
}

/** The temporary file beside a local `path` for one upload of a job. */
export function tempPathFor(path: string, job?: JobWrite): string {
  return beside(path, tempName(job));
}

/** Both temporary names a job may leave behind after a crash. */
export function tempNamesOf(id: string): string[] {
  return [tempName({ id, stage: "placeholder" }), tempName({ id, stage: "result" })];
}

/** The name the destination's earlier file is kept under while the job runs. */
export function keptName(id: string): string {
  return `${OUR_PREFIX}${id}.kept`;
}
