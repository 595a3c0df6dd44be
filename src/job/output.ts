/**
 * One result of a job: where it goes, how it is made, what its
 * placeholder did there, and how it ended. A job holds its source and one
 * output per entry of the request's `outputs` (one for the `dstURL`+`args`
 * form). Also the rules across a job's outputs that hold whatever runs
 * them: the names their files carry, and what a job whose outputs partly
 * failed reports.
 *
 * @module
 */
import { ImgserveError } from "../../protocol/error_codes.ts";
import type { ContentDigest } from "../transport/mod.ts";
import type { JobRecord, OutputRecord, OutputState, StoredError } from "../journal/mod.ts";
import type { Plan } from "../../protocol/plan.ts";
import type { JobArgs } from "./job_args.ts";
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
  placeholder?: ContentDigest;
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

/**
 * The id an output's own files carry (temporary and kept names, see
 * transport/keep.ts): the job's id for the first output, as jobs of one
 * output always had, and `<id>.<index>` for the others, so outputs written
 * to one folder never take each other's names.
 *
 * @example
 * ```ts
 * outputKey("0b6…", 2); // "0b6….2"
 * ```
 */
export function outputKey(id: string, index: number): string {
  return index === 0 ? id : `${id}.${index}`;
}

/** Longest job error message listing its failed outputs. */
const MAX_SUMMARY = 1000;

/**
 * The error a finished job reports, undefined when every output is done.
 * One output: its own error. Several: PARTLY_DONE when some are done,
 * else `whole` (the attempt's own failure) or the first output's error.
 *
 * @example
 * ```ts
 * jobError(outputs, true)?.code; // 120 when outputs[1] failed and the others are done
 * ```
 */
export function jobError(outputs: OutputRecord[], multi: boolean, whole?: ImgserveError): StoredError | undefined {
  const failed = outputs.flatMap((output, i) => output.state === "done" ? [] : [{ i, error: output.error }]);
  if (failed.length === 0) return undefined;
  const fallback = { code: whole?.code ?? 604, message: whole?.message ?? "the output was not made" };
  if (!multi) return failed[0].error ?? fallback;
  if (failed.length === outputs.length) {
    if (whole) return { code: whole.code, message: whole.message };
    const { i, error } = failed[0];
    return { code: error?.code ?? fallback.code, message: `outputs[${i}]: ${error?.message ?? fallback.message}` };
  }
  const list = failed.map(({ i, error }) => `outputs[${i}]: ${error?.message ?? fallback.message}`).join("; ");
  const message = `${failed.length} of ${outputs.length} outputs failed (the others are done): ${list}`;
  return {
    code: new ImgserveError("PARTLY_DONE", "").code,
    message: message.length > MAX_SUMMARY ? `${message.slice(0, MAX_SUMMARY - 1)}…` : message,
  };
}
