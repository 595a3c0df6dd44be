/**
 * What the journal keeps about a job, whichever journal keeps it: the
 * record, its outputs and callback, and the upgrade of records an older
 * version wrote.
 *
 * @module
 */
import type { JobArgs } from "../job/job_args.ts";
import type { Operation, Plan } from "../../protocol/plan.ts";
import type { ContentDigest } from "../transport/mod.ts";
import { ImgserveError } from "../../protocol/error_codes.ts";

/** The states a job moves through. */
export type JobState = "queued" | "running" | "done" | "failed" | "cancelled";

/** Every state, for parsing a client's filter. */
export const JOB_STATES: readonly JobState[] = ["queued", "running", "done", "failed", "cancelled"];

/** Whether a job in `state` has ended: it runs no more unless retried. */
export function isFinished(state: JobState): boolean {
  return state === "done" || state === "failed" || state === "cancelled";
}

/** The states of one output: pending until its result is delivered or it has failed for good. */
export type OutputState = "pending" | "done" | "failed";

/** The request, as kept to run the job again. */
export interface StoredRequest {
  operationType: Operation;
  srcURL: string;
  outputs: { dstTemplate: string; args: JobArgs }[];
  /** Sent in the `outputs` form: status and callback list the outputs. */
  multi?: boolean;
  callbackURL?: string;
}

/** Delivery of the callback, when the request named one. */
export interface CallbackState {
  pending: boolean;
  attempts: number;
  nextAt?: number;
  lastError?: string;
}

/** A job's error, as journaled. */
export interface StoredError {
  code: number;
  message: string;
}

/** One output of a job: its destination, plan and outcome. */
export interface OutputRecord {
  /** Tags filled in. */
  dstURL: string;
  width: number;
  height: number;
  plan: Plan;
  state: OutputState;
  /** Bytes of the result, once delivered. */
  size?: number;
  /** Per-stage times inside the worker, ms. */
  times?: Record<string, number>;
  /** Why it failed, or why its last attempt did. */
  error?: StoredError;
  /** The placeholder uploaded for it: a retry that reads it back fails (see steps/take_source.ts). */
  placeholder?: ContentDigest;
  /** The destination's earlier file is kept aside until this output ends. */
  kept?: boolean;
}

/** What is known about a job. */
export interface JobRecord {
  id: string;
  state: JobState;
  request: StoredRequest;
  /** In request order; a retry runs only those still pending. */
  outputs: OutputRecord[];
  attempts: number;
  acceptedAt: number;
  startedAt?: number;
  finishedAt?: number;
  error?: StoredError;
  /** Earliest time of the next attempt. */
  retryAt?: number;
  /** The server holding the job, and until when. */
  owner?: string;
  leaseUntil?: number;
  callback?: CallbackState;
  /** A client asked to cancel it: whichever server holds it ends it as cancelled at its next step or lease renewal. */
  cancelRequested?: boolean;
}

/**
 * A job as the version before `outputs` journaled it: its one output's
 * fields at the top level. Such jobs are upgraded as they are read, so a
 * server upgraded mid-job finishes them.
 */
export interface SingleOutputRecord extends Omit<JobRecord, "outputs" | "request"> {
  dstURL: string;
  width: number;
  height: number;
  plan: Plan;
  times?: Record<string, number>;
  placeholder?: ContentDigest;
  kept?: boolean;
  request: Omit<StoredRequest, "outputs" | "multi"> & { dstTemplate: string; args: JobArgs };
}

/**
 * The record in this version's shape, whichever version wrote it.
 *
 * @example
 * ```ts
 * upgraded(await kv.get(["jobs", id]).value).outputs[0].dstURL;
 * ```
 */
export function upgraded(record: JobRecord | SingleOutputRecord): JobRecord {
  if ("outputs" in record) return record;
  const { dstURL, width, height, plan, times, placeholder, kept, request, ...job } = record;
  const { dstTemplate, args, ...rest } = request;
  const state: OutputState = job.state === "done" || job.state === "failed" ? job.state : "pending";
  return {
    ...job,
    request: { ...rest, outputs: [{ dstTemplate, args }] },
    outputs: [{
      dstURL,
      width,
      height,
      plan,
      state,
      ...(times ? { times } : {}),
      ...(state === "failed" && job.error ? { error: job.error } : {}),
      ...(placeholder ? { placeholder } : {}),
      ...(kept ? { kept } : {}),
    }],
  };
}

/** Whether `err` is the journal's refusal to write, which it has logged itself (once, not per job). */
export function unwritableJournal(err: unknown): boolean {
  return err instanceof ImgserveError && err.name === "JOURNAL_UNAVAILABLE";
}
