/**
 * One result of a job: where it goes, how it is made, what its
 * placeholder did there, and how it ended. A job holds its source and one
 * output per entry of the request's `outputs` (one for the `dstURL`+`args`
 * form).
 *
 * @module
 */
import type { PlaceholderDigest } from "./originals.ts";
import type { JobRecord, OutputRecord, OutputState, StoredError } from "../journal/mod.ts";
import type { Plan } from "../../protocol/plan.ts";
import type { JobArgs } from "./request.ts";
import { parseDestination } from "./template.ts";

/** One result of a job. */
export interface Output {
  /** Its place in the request's list. */
  readonly index: number;
  /** dstURL as sent, tags not yet filled in. */
  readonly dstTemplate: string;
  readonly args: JobArgs;
  readonly plan: Plan;
  /** The destination with its tags filled in, from the fillTags step on. */
  dst?: string;
  dstURL?: URL;
  /** The placeholder uploaded there, from the placePlaceholder step on. */
  placeholder?: PlaceholderDigest;
  /** The destination's earlier file is kept aside until this output ends. */
  kept: boolean;
  /** Pending until its result is delivered or it has failed for good. */
  state: OutputState;
  /** Bytes of the result, once delivered. */
  size?: number;
  times?: Record<string, number>;
  error?: StoredError;
}

/** An output's destination; throws when asked before the fillTags step. */
export function destinationOf(output: Output): { dst: string; dstURL: URL } {
  if (output.dst === undefined || output.dstURL === undefined) {
    throw new Error("an output's destination is used before its tags are filled in");
  }
  return { dst: output.dst, dstURL: output.dstURL };
}

/** The outputs of a journaled job, as accepting it and its attempts left them. */
export function outputsOf(record: JobRecord): Output[] {
  return record.outputs.map((stored, index) => ({
    index,
    dstTemplate: record.request.outputs[index].dstTemplate,
    args: record.request.outputs[index].args,
    plan: stored.plan,
    dst: stored.dstURL,
    dstURL: parseDestination(stored.dstURL),
    placeholder: stored.placeholder,
    kept: stored.kept === true,
    state: stored.state,
    size: stored.size,
    times: stored.times,
    error: stored.error,
  }));
}

/** An output as the journal keeps it. */
export function recordOf(output: Output): OutputRecord {
  const { plan, state, size, times, error, placeholder, kept } = output;
  return {
    dstURL: destinationOf(output).dst,
    width: plan.width,
    height: plan.height,
    plan,
    state,
    ...(size !== undefined ? { size } : {}),
    ...(times ? { times } : {}),
    ...(error ? { error } : {}),
    ...(placeholder ? { placeholder } : {}),
    ...(kept ? { kept } : {}),
  };
}
