/**
 * The two things steps work on: a job being accepted ({@linkcode Admission})
 * and one attempt at running it ({@linkcode Attempt}), and the shape of a
 * step over each.
 *
 * @module
 */
import type { ImageHeader } from "../../../protocol/plan.ts";
import type { LocalSource } from "../../../protocol/work.ts";
import type { OutputResult } from "../../pool/task.ts";
import type { ImgserveError } from "../../../protocol/error_codes.ts";
import type { JobContext } from "../context.ts";
import type { JobRecord } from "../../journal/mod.ts";
import type { Output } from "../output.ts";
import { atOutput, type JobRequest } from "../request.ts";
import type { Download, JobSource } from "../source.ts";
import type { ResultSink } from "../sink.ts";
import type { ContentDigest } from "../../transport/mod.ts";

/** A job being accepted: what the accept steps have learnt so far, filled in in order. */
export interface Admission {
  readonly id: string;
  readonly request: JobRequest;
  /** The source's download, from openSource on; the chunks read hold the header from readSourceHeader on. */
  download?: Download;
  header?: ImageHeader;
  /** From chooseSource on. */
  source?: JobSource;
  /** From planOutputs on. */
  outputs: Output[];
  /** From journalJob on. */
  record?: JobRecord;
}

/** One attempt at running a journaled job. */
export interface Attempt {
  /** The job as journaled; a step that journals a change merges it in. */
  record: JobRecord;
  readonly outputs: Output[];
  /** Accepted just now, rather than picked up again from the journal. */
  readonly fresh: boolean;
  /** Journaled as running already: by accept (its source ready), or by the claim that picked it up. */
  readonly journaledRunning: boolean;
  /** Handed over by accept, or found again by takeSource. */
  source?: JobSource;
  /** The source as the pool takes it, from takeSource on. */
  input?: Uint8Array | LocalSource;
  /** Outputs this attempt failed, and why: retried or failed for good when it ends. */
  readonly failures: Map<Output, ImgserveError>;
  /** The lease went to another server: this attempt changes nothing more. */
  lost?: boolean;
  /** Aborted when a client cancels the job (DELETE /jobs/<id>), with the CANCELLED error. */
  readonly signal?: AbortSignal;
  /** From run on: the outputs as the pool makes them, for deliver. */
  made?: MadeOutputs;
}

/** One output the pool made (or failed to make), with where it goes. */
export interface Made {
  output: Output;
  sink: ResultSink;
  result: OutputResult;
}

/**
 * The outputs of a run as they are made, in order; the stream closes when
 * the run ends, and `ended` then tells whether the run as a whole failed.
 */
export interface MadeOutputs {
  results: ReadableStream<Made>;
  ended: Promise<{ failed: false } | { failed: true; error: unknown }>;
}

/** The outputs an attempt makes: those neither delivered nor failed for good. */
export function pendingOf(attempt: Attempt): Output[] {
  return attempt.outputs.filter((output) => output.state === "pending");
}

/** The placeholders of every output: a source that reads back as one of them is refused. */
export function placeholdersOf(attempt: Attempt): ContentDigest[] {
  return attempt.outputs.flatMap((output) => output.placeholder ? [output.placeholder] : []);
}

/** Ends an attempt quietly: the job is no longer this server's (its lease was lost). */
export const STOP = Symbol("stop");

/** A step of accepting a job. */
export type AcceptStep = (ctx: JobContext, job: Admission) => void | Promise<void>;

/** A step of an attempt; {@linkcode STOP} ends the attempt there. */
export type AttemptStep = (ctx: JobContext, attempt: Attempt) => void | typeof STOP | Promise<void | typeof STOP>;

/** A step that handles one output, run for each of the job's outputs in turn. */
export type OutputStep<J> = (ctx: JobContext, job: J, output: Output) => void | Promise<void>;

/**
 * Runs an output step once per output, as one step of the job; while a
 * job of several outputs is accepted, an error names the output.
 */
export function eachOutput<J extends { outputs: Output[]; request?: JobRequest }>(
  step: OutputStep<J>,
): (ctx: JobContext, job: J) => Promise<void> {
  const each = async (ctx: JobContext, job: J) => {
    for (const output of job.outputs) {
      await atOutput(job.request ? placeOf(job.request, output.index) : "", () => step(ctx, job, output));
    }
  };
  Object.defineProperty(each, "name", { value: step.name });
  return each;
}

/** How messages name output `index` of a request: "outputs[2]." in the `outputs` form, "" in the single form. */
export function placeOf(request: JobRequest, index: number): string {
  return request.multi ? `outputs[${index}].` : "";
}
