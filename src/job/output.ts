/**
 * One result of a job: where it goes, how it is made, and what its
 * placeholder did there. A job holds its source and its outputs; today
 * every job has exactly one, the request's dstURL and args.
 *
 * @module
 */
import type { PlaceholderDigest } from "./originals.ts";
import type { JobRecord } from "./journal.ts";
import type { Plan } from "./plan.ts";
import type { JobArgs } from "./request.ts";
import { parseDestination } from "./template.ts";

/** One result of a job. */
export interface Output {
  /** dstURL as sent, tags not yet filled in. */
  readonly dstTemplate: string;
  readonly args: JobArgs;
  readonly plan: Plan;
  /** The destination with its tags filled in, from the fillTags step on. */
  dst?: string;
  dstURL?: URL;
  /** The placeholder uploaded there, from the placePlaceholder step on. */
  placeholder?: PlaceholderDigest;
  /** The destination's earlier file is kept aside until the job ends. */
  kept: boolean;
}

/** An output's destination; throws when asked before the fillTags step. */
export function destinationOf(output: Output): { dst: string; dstURL: URL } {
  if (output.dst === undefined || output.dstURL === undefined) {
    throw new Error("an output's destination is used before its tags are filled in");
  }
  return { dst: output.dst, dstURL: output.dstURL };
}

/** The outputs of a journaled job, as accepting it left them. */
export function outputsOf(record: JobRecord): Output[] {
  return [{
    dstTemplate: record.request.dstTemplate,
    args: record.request.args,
    plan: record.plan,
    dst: record.dstURL,
    dstURL: parseDestination(record.dstURL),
    placeholder: record.placeholder,
    kept: record.kept === true,
  }];
}
