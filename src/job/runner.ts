/**
 * The job service one server runs: it wires the job's steps
 * (`steps/mod.ts`: accept, then attempts) to the server's parts and its
 * {@linkcode Scheduler}, which picks up jobs whose server died, and jobs
 * waiting for a retry, from the journal.
 *
 * @module
 */
import { deliverCallback } from "./callback.ts";
import type { JobContext, JobDeps } from "./context.ts";
import type { JobRequest } from "./request.ts";
import { Scheduler } from "./scheduler.ts";
import type { JobRecord } from "../journal/mod.ts";
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
    ctx.scheduler.start({ run: (record) => attempt(ctx, record), notify: (record) => deliverCallback(ctx, record) });
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

  /** Accepts a job (see {@linkcode accept}); resolves with its record, from which the client's reply is made. */
  accept(request: JobRequest): Promise<JobRecord> {
    return accept(this.#ctx, request);
  }
}
