/**
 * The job service one server runs: it wires the job's steps
 * (`steps/mod.ts`: accept, then attempts) to the server's parts and its
 * {@linkcode Scheduler}, which picks up jobs whose server died, and jobs
 * waiting for a retry, from the journal.
 *
 * @module
 */
import { deliverCallback } from "./callback.ts";
import { downloadSource, type JobContext, type JobDeps } from "./context.ts";
import type { JobRequest } from "./request.ts";
import { Scheduler } from "./scheduler.ts";
import { isFinished, type JobRecord } from "../journal/mod.ts";
import { ImgserveError } from "../../protocol/error_codes.ts";
import { accept, attempt } from "./steps/mod.ts";

/** What a runner needs. */
export type RunnerDeps = JobDeps;

/** Accepts and runs jobs. */
export class JobRunner {
  #ctx: JobContext;

  constructor(deps: RunnerDeps) {
    this.#ctx = { ...deps, scheduler: new Scheduler(deps.journal, deps.config, deps.log) };
  }

  /** This server's name in the journal's leases. */
  get owner(): string {
    return this.#ctx.scheduler.owner;
  }

  /** False once shutdown has begun. */
  get accepting(): boolean {
    return this.#ctx.scheduler.accepting;
  }

  /** Jobs this server claimed from the journal, and of those, jobs taken over from another server. */
  get claims(): { claims: number; takeovers: number } {
    const { claims, takeovers } = this.#ctx.scheduler;
    return { claims, takeovers };
  }

  /** Jobs this server is working on. */
  get active(): number {
    return this.#ctx.scheduler.active;
  }

  /** Starts picking up jobs from the journal: at once, then every so often. */
  start(): void {
    const ctx = this.#ctx;
    ctx.scheduler.start({
      run: (record, started) => attempt(ctx, record, undefined, started),
      notify: (record) => deliverCallback(ctx, record),
    });
  }

  /**
   * Stops taking work, waits up to `graceMs` for running jobs, and hands
   * the unfinished ones back to the journal for the next server.
   */
  stop(graceMs: number): Promise<void> {
    return this.#ctx.scheduler.stop(graceMs);
  }

  /** Waits until every job this server is working on has settled. */
  idle(): Promise<void> {
    return this.#ctx.scheduler.idle();
  }

  /**
   * Cancels a job that has not ended, on whichever server runs it: the
   * request is journaled (see {@linkcode Journal.requestCancel}), and a
   * job running here is stopped at once. Resolves with the record as it
   * stands; the job is `cancelled` once its server has ended it.
   */
  async cancel(id: string): Promise<JobRecord> {
    const record = await this.#ctx.journal.requestCancel(id);
    if (!record) throw notFound(id);
    if (isFinished(record.state)) {
      throw new ImgserveError("JOB_FINISHED", `job ${id} has already ended (${record.state}); it cannot be cancelled`);
    }
    this.#ctx.scheduler.cancel(id);
    return record;
  }

  /**
   * Runs a failed or cancelled job again from its source, as a new
   * attempt: the outputs not delivered are made again, the callback is
   * sent again once it ends.
   */
  async retry(id: string): Promise<JobRecord> {
    const before = await this.#ctx.journal.get(id);
    if (!before) throw notFound(id);
    const record = await this.#ctx.journal.reopen(id, {
      attempts: before.attempts + 1,
      retryAt: Date.now(),
      error: undefined,
      startedAt: undefined,
      finishedAt: undefined,
      cancelRequested: undefined,
      outputs: before.outputs.map((output) =>
        output.state === "done" ? output : { ...output, state: "pending", error: undefined, kept: false }
      ),
      ...(before.request.callbackURL ? { callback: { pending: true, attempts: 0 } } : {}),
    });
    if (!record) throw notFound(id);
    if (record.state !== "queued") {
      throw new ImgserveError(
        "JOB_NOT_RETRYABLE",
        `job ${id} is ${record.state}; only a failed or cancelled job is retried`,
      );
    }
    this.#ctx.scheduler.wake();
    return record;
  }

  /** Accepts a job (see {@linkcode accept}); resolves with its record, from which the client's reply is made. */
  accept(request: JobRequest): Promise<JobRecord> {
    return accept(this.#ctx, request);
  }

  /**
   * Reads back a finished output for the dashboard's preview, as a source is
   * read: the same file roots and network rules, --max-source-bytes and timeouts.
   */
  readOutput(url: URL): Promise<ReadableStream<Uint8Array>> {
    return downloadSource(this.#ctx, url);
  }
}

function notFound(id: string): ImgserveError {
  return new ImgserveError("JOB_NOT_FOUND", `no job with id ${id.slice(0, 80)}`);
}
