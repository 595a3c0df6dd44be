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
 * file of its own in this folder, named after it, give it a test in
 * test/job/steps/, and put it in the list where its inputs exist. A step about one
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
import { withdrawPlaceholder } from "../settle.ts";
import type { JobSource } from "../source.ts";
import { checkJournal } from "./check_journal.ts";
import { checkTargets } from "./check_targets.ts";
import { chooseSource } from "./choose_source.ts";
import { cleanUp } from "./clean_up.ts";
import { deliver } from "./deliver.ts";
import { fillTags } from "./fill_tags.ts";
import { type AcceptStep, type Admission, type Attempt, type AttemptStep, eachOutput, STOP } from "./job.ts";
import { journalJob } from "./journal_job.ts";
import { markRunning } from "./mark_running.ts";
import { notify } from "./notify.ts";
import { openSource } from "./open_source.ts";
import { placePlaceholder } from "./place_placeholder.ts";
import { planOutputs } from "./plan_outputs.ts";
import { readSourceHeader } from "./read_source_header.ts";
import { recordOutcome, retryOrFail } from "./record_outcome.ts";
import { refuseInPlace } from "./refuse_in_place.ts";
import { refuseSharedDestinations } from "./refuse_shared_destinations.ts";
import { run } from "./run.ts";
import { takeSource } from "./take_source.ts";

export type { Admission, Attempt } from "./job.ts";

/** From request to reply: the job's placeholder is in place and it is journaled. */
export const ACCEPT: AcceptStep[] = [
  checkJournal,
  checkTargets,
  openSource,
  readSourceHeader,
  planOutputs,
  chooseSource,
  eachOutput(fillTags),
  eachOutput(refuseInPlace),
  refuseSharedDestinations,
  eachOutput(placePlaceholder),
  journalJob,
];

/**
 * One attempt at a journaled job, from its source to its outputs delivered
 * and its outcome told; run starts the work and deliver stores each output
 * as it is made, while the next is being made.
 */
export const ATTEMPT: AttemptStep[] = [
  cleanUp,
  takeSource,
  markRunning,
  run,
  deliver,
  recordOutcome,
  notify,
];

/**
 * Accepts a job and starts its first attempt; resolves with its record,
 * every placeholder in place. The queue slot is taken before any work (see
 * Scheduler.reserve), so simultaneous requests cannot all pass the check.
 */
export async function accept(ctx: JobContext, request: JobRequest): Promise<JobRecord> {
  using _slot = await ctx.scheduler.reserve();
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
 * accepted comes with its source, its download open; `started`: the claim
 * that picked it up journaled it as running.
 */
export async function attempt(
  ctx: JobContext,
  record: JobRecord,
  source?: JobSource,
  started = false,
): Promise<void> {
  const stopBeating = ctx.scheduler.heartbeat(record.id);
  using signal = ctx.scheduler.cancellation(record.id, record.cancelRequested);
  const fresh = source !== undefined;
  const job: Attempt = {
    record,
    outputs: [],
    fresh,
    journaledRunning: (fresh || started) && record.state === "running",
    source,
    failures: new Map(),
    signal,
  };
  try {
    job.outputs.push(...outputsOf(record));
    for (const step of ATTEMPT) {
      // A cancelled job stops between steps; run's work in the pool stops at once (its worker ended).
      signal.throwIfAborted();
      if (await step(ctx, job) === STOP) return;
    }
  } catch (err) {
    await retryOrFail(ctx, job, err);
  } finally {
    stopBeating();
  }
}
