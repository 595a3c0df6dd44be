/**
 * A job as two lists of named steps, run in order, in the manner of
 * imgproxy's processing pipeline: {@linkcode ACCEPT} takes a request as
 * far as the client's reply (the placeholder in place, the job journaled),
 * {@linkcode ATTEMPT} runs one attempt at a journaled job. A step is a
 * small function of the {@linkcode JobContext} and the job; it reads what
 * earlier steps left on the job ({@linkcode Admission} or
 * {@linkcode Attempt}) and adds its own part.
 *
 * To add a step: write it as `(ctx, job) => void | Promise<void>` in a
 * file of this folder (or beside the step it belongs with), give it a
 * test, and put it in the list where its inputs exist. A step about one
 * output (a destination, its placeholder, its result) takes `(ctx, job,
 * output)` and goes in the list wrapped in {@linkcode eachOutput}. An
 * attempt step returns {@linkcode STOP} to end the attempt quietly (the
 * job is no longer this server's); a thrown error ends it as failed, or
 * as retried (see retry.ts), and a failed accept releases what it held.
 *
 * @module
 */
import type { JobContext } from "../context.ts";
import { outputsOf } from "../output.ts";
import type { JobRecord } from "../../journal/mod.ts";
import type { JobRequest } from "../request.ts";
import type { JobSource } from "../source.ts";
import { checkTargets } from "./check.ts";
import { fillTags, refuseInPlace, refuseSharedDestinations } from "./fill_tags.ts";
import { type AcceptStep, type Admission, type Attempt, type AttemptStep, eachOutput, STOP } from "./job.ts";
import { checkJournal, journal, markRunning } from "./journal.ts";
import { notify, recordOutcome, retryOrFail } from "./outcome.ts";
import { placePlaceholder, withdrawPlaceholder } from "./placeholder.ts";
import { chooseSource, plan } from "./plan.ts";
import { openSource, readHeader } from "./read_header.ts";
import { cleanUp, run, takeSource } from "./run.ts";

export type { Admission, Attempt } from "./job.ts";

/** From request to reply: the job's placeholder is in place and it is journaled. */
export const ACCEPT: AcceptStep[] = [
  checkJournal,
  checkTargets,
  openSource,
  readHeader,
  plan,
  chooseSource,
  eachOutput(fillTags),
  eachOutput(refuseInPlace),
  refuseSharedDestinations,
  eachOutput(placePlaceholder),
  journal,
];

/** One attempt at a journaled job, from its source to its outputs delivered and its outcome told. */
export const ATTEMPT: AttemptStep[] = [
  cleanUp,
  takeSource,
  markRunning,
  run,
  recordOutcome,
  notify,
];

/**
 * Accepts a job and starts its first attempt; resolves with its record,
 * every placeholder in place. The queue slot is taken before the first await, so
 * simultaneous requests cannot all pass the check.
 */
export async function accept(ctx: JobContext, request: JobRequest): Promise<JobRecord> {
  using _slot = ctx.scheduler.reserve();
  const job: Admission = { id: crypto.randomUUID(), request, outputs: [] };
  try {
    for (const step of ACCEPT) await step(ctx, job);
  } catch (err) {
    await abandon(ctx, job);
    throw err;
  }
  if (job.record!.owner) ctx.scheduler.track(job.id, attempt(ctx, job.record!, job.source));
  else await job.download?.stream.cancel().catch(() => {}); // the server that claims it reads the source again
  return job.record!;
}

/** After a failed accept: the download let go, every destination as it was before the request. */
async function abandon(ctx: JobContext, job: Admission): Promise<void> {
  await job.download?.stream.cancel().catch(() => {});
  for (const output of job.outputs) await withdrawPlaceholder(ctx, job.id, output);
}

/**
 * One attempt at a journaled job, holding its lease meanwhile; on a
 * failure, the next attempt is scheduled or the job fails. A job just
 * accepted comes with its source, its download open.
 */
export async function attempt(ctx: JobContext, record: JobRecord, source?: JobSource): Promise<void> {
  const stopBeating = ctx.scheduler.heartbeat(record.id);
  const job: Attempt = { record, outputs: [], fresh: source !== undefined, source, failures: new Map() };
  try {
    job.outputs.push(...outputsOf(record));
    for (const step of ATTEMPT) if (await step(ctx, job) === STOP) return;
  } catch (err) {
    await retryOrFail(ctx, job, err);
  } finally {
    stopBeating();
  }
}
