/**
 * When jobs run, and on which server: the queue slots behind --max-queue,
 * the jobs this server is working on, the journal scan that picks up jobs
 * whose server died or whose retry is due, the leases kept alive while a
 * job runs, and the stop that hands unfinished jobs back.
 *
 * @module
 */
import type { Log } from "../log.ts";
import { jobEvent } from "./log_event.ts";
import type { Config } from "../config.ts";
import { ImgserveError } from "../../protocol/error_codes.ts";
import { type Announcement, isFinished, type JobRecord, type Journal, unwritableJournal } from "../journal/mod.ts";
import { DEPTH } from "../pool/dispatch.ts";
import { AHEAD_AFTER_MS, ClaimAhead } from "./claim_ahead.ts";

/** Why a cancelled job's attempt ended. */
function cancelled(): ImgserveError {
  return new ImgserveError("CANCELLED", "the job was cancelled");
}

/** What the scheduler starts for a job it picked up from the journal. */
export interface PickUp {
  /**
   * Runs a job again (a retry that is due, or one taken over from a dead
   * server) or for the first time (left by a busy server); `started`: the
   * claim journaled it as running already.
   */
  run(record: JobRecord, started?: boolean): Promise<void>;
  /** Sends a finished job's pending callback again. */
  notify(record: JobRecord): Promise<void>;
}

/**
 * One server's share of the journal's jobs.
 *
 * @example
 * ```ts
 * const scheduler = new Scheduler(journal, config);
 * using _slot = await scheduler.reserve();
 * ```
 */
export class Scheduler {
  /** This server's name in the journal's leases. */
  readonly owner: string = crypto.randomUUID();
  #journal: Journal;
  #config: Config;
  #log?: Log;
  #active = new Map<string, Promise<void>>();
  /** Of those, the jobs holding one of the workers: from their start until their work in the pool has ended. */
  #working = new Set<string>();
  /** The cancel switch of each attempt running here. */
  #cancels = new Map<string, AbortController>();
  #pickUpWith?: PickUp;
  /** While the journal scan holds a queue slot for a claim: settles with the claim. */
  #claiming?: Promise<void>;
  /** Requests being validated: they hold a queue slot from their first line on. */
  #admitting = 0;
  #stopping = false;
  /** Cuts every transfer short once the grace period is over. */
  #abort = new AbortController();
  #scan?: ReturnType<typeof setInterval>;
  #scanning = false;
  #again = false;
  /** Shared journal: the jobs announced while no worker was free, claimed ahead once they have waited. */
  #ahead = new ClaimAhead(() => this.#pickUpWith && this.#pickUp(this.#pickUpWith, true));
  /** Jobs this server has taken from the journal: retries and takeovers. */
  claims = 0;
  /** Of those, jobs whose previous server's lease had lapsed. */
  takeovers = 0;

  constructor(journal: Journal, config: Config, log?: Log) {
    this.#journal = journal;
    this.#config = config;
    this.#log = log;
  }

  /** False once shutdown has begun. */
  get accepting(): boolean {
    return !this.#stopping;
  }

  /** Jobs this server is working on. */
  get active(): number {
    return this.#active.size;
  }

  /** Aborted once the grace period of a stop is over. */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  /**
   * Takes a queue slot for a request, or throws SHUTTING_DOWN or
   * QUEUE_FULL. The check and the hold are synchronous, so simultaneous
   * requests cannot all pass it: the caller holds the slot until its job is
   * tracked. A queue that is full only while the journal scan holds a slot
   * for a claim is checked once more when that claim settles: a scan that
   * claimed nothing must not turn a request away.
   */
  async reserve(): Promise<Disposable> {
    for (let waited = false;; waited = true) {
      if (this.#stopping) throw new ImgserveError("SHUTTING_DOWN", "the server is shutting down; try another");
      const unfinished = this.#active.size + this.#admitting;
      if (unfinished < this.#config.limits.maxQueue) return this.#holdSlot();
      if (waited || !this.#claiming) {
        throw new ImgserveError("QUEUE_FULL", `the server has ${unfinished} unfinished jobs; try again shortly`);
      }
      await this.#claiming;
    }
  }

  /**
   * Whether a job accepted now runs on this server: always with a journal
   * of its own; with a shared one only while a worker is free, else it is
   * journaled unowned and an idle server claims it.
   */
  keeps(): boolean {
    return !this.#journal.shared || this.#room() > 0;
  }

  /** Workers with no job of this server's. */
  #room(): number {
    return this.#config.workers - this.#working.size;
  }

  /** Jobs this server may still claim ahead: one queued behind each worker's running task. */
  #aheadRoom(): number {
    return this.#config.workers * DEPTH - this.#working.size;
  }

  /**
   * Another server (or this one) announced a job: claimed at once while a
   * worker is free, else ahead once it has waited (see claim_ahead.ts);
   * or a claim, of a job then no longer to wait for.
   */
  #heard(pickUp: PickUp, news: Announcement): void {
    if (news.claimed) return this.#ahead.claimed(news.claimed);
    if (this.#room() <= 0) {
      this.#ahead.heard(news.left);
      this.#armAhead();
    }
    this.#pickUp(pickUp, true);
  }

  /** Arms the claim ahead while no worker is free and one may still take a job ahead. */
  #armAhead(): void {
    if (!this.#stopping && this.#room() <= 0 && this.#aheadRoom() > 0) this.#ahead.arm();
  }

  /** Counts a job being admitted against --max-queue until disposed, by which time it is tracked. */
  #holdSlot(): Disposable {
    this.#admitting++;
    return { [Symbol.dispose]: () => void this.#admitting-- };
  }

  /**
   * Counts `work` as one of this server's jobs until it settles, and, for
   * an attempt (`worker`; not a callback), as holding one of its workers
   * until {@linkcode release} or until it settles.
   */
  track(id: string, work: Promise<void>, worker = true): void {
    this.#active.set(id, work);
    if (worker) this.#working.add(id);
    work.catch((err) => unwritableJournal(err) || this.#log?.(`job ${id}: ${err?.stack ?? err}`))
      .finally(() => {
        this.#active.delete(id);
        this.release(id);
      });
  }

  /**
   * Job `id` no longer needs a worker: its work in the pool has ended,
   * though it still delivers, journals its outcome and sends its callback.
   * On a shared journal the jobs left there while this server was busy
   * wait for that worker, so they are claimed at once: claimed only once
   * the whole job had ended, the worker sat idle through the outcome's
   * commits and the callback (about 20 ms a job in the cluster bench).
   */
  release(id: string): void {
    if (!this.#working.delete(id)) return;
    if (!this.#journal.shared || !this.#pickUpWith) return;
    this.#armAhead(); // a job announced while every slot, ahead ones too, was taken
    this.#pickUp(this.#pickUpWith, true);
  }

  /** Starts picking up jobs from the journal: at once, then every so often. */
  start(pickUp: PickUp): void {
    this.#pickUpWith = pickUp;
    const every = Math.max(50, Math.min(1000, this.#config.jobs.leaseMs / 3));
    this.#scan = setInterval(() => this.#pickUp(pickUp), every);
    this.#journal.watch((news) => this.#heard(pickUp, news));
    this.#pickUp(pickUp);
  }

  /**
   * Stops taking work, waits up to `graceMs` for running jobs, and hands
   * the unfinished ones back to the journal for the next server.
   */
  async stop(graceMs: number): Promise<void> {
    this.#stopping = true;
    clearInterval(this.#scan);
    this.#ahead.stop();
    const all = Promise.allSettled([...this.#active.values()]);
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([all, new Promise((r) => timer = setTimeout(r, graceMs))]);
    clearTimeout(timer);
    for (const id of this.#active.keys()) {
      if (id.endsWith(":callback")) continue;
      // A journal that cannot be written keeps the lease, which lapses: the job is taken over all the same.
      await this.#journal.update(id, this.owner, { state: "queued", owner: undefined, leaseUntil: undefined })
        .catch((err) => unwritableJournal(err) || Promise.reject(err));
    }
    this.#abort.abort(new ImgserveError("SHUTTING_DOWN", "the server is shutting down"));
  }

  /** Waits until every job this server is working on has settled. */
  async idle(): Promise<void> {
    while (this.#active.size > 0) await Promise.allSettled([...this.#active.values()]);
  }

  /**
   * Renews this server's lease on a job until the returned function is
   * called; a cancel request the renewal finds (another server's DELETE)
   * cancels the attempt.
   */
  heartbeat(id: string): () => void {
    const { leaseMs } = this.#config.jobs;
    const timer = setInterval(() => {
      this.#journal.update(id, this.owner, { leaseUntil: Date.now() + leaseMs })
        .then(() => this.#journal.cancelRequested(id) && this.cancel(id))
        .catch(() => {});
    }, Math.max(20, leaseMs / 3));
    return () => clearInterval(timer);
  }

  /**
   * The signal that cancels an attempt at job `id` on this server, aborted
   * at once when its record already asks for it; `using` lets it go.
   */
  cancellation(id: string, requested = false): AbortSignal & Disposable {
    const controller = new AbortController();
    this.#cancels.set(id, controller);
    if (requested) controller.abort(cancelled());
    return Object.assign(controller.signal, {
      [Symbol.dispose]: () => this.#cancels.get(id) === controller && this.#cancels.delete(id),
    });
  }

  /**
   * Cancels job `id` whose record now asks for it: its attempt here is
   * stopped, or else the journal is scanned at once, so a job nobody holds
   * is claimed and ended; a job another server holds ends there.
   */
  cancel(id: string): void {
    const controller = this.#cancels.get(id);
    if (controller) controller.abort(cancelled());
    else if (this.#pickUpWith) this.#pickUp(this.#pickUpWith, true);
  }

  /** Scans the journal at once: a job was put back in the queue here. */
  wake(): void {
    if (this.#pickUpWith) this.#pickUp(this.#pickUpWith, true);
  }

  /** Claims and starts every journal job that is due and free. */
  async #pickUp(pickUp: PickUp, woken = false): Promise<void> {
    if (this.#stopping) return;
    if (this.#scanning) {
      if (woken) this.#again = true; // woken meanwhile: what woke it may have come after the claim query
      return;
    }
    this.#scanning = true;
    const journal = this.#journal;
    const { limits, jobs } = this.#config;
    try {
      await journal.sweep();
      // A shared journal's jobs go to servers with a free worker, or ahead to a busy one once a job has waited
      // (see AHEAD_AFTER_MS); a server's own journal queues up to --max-queue.
      const startedAt = performance.now();
      const ahead = journal.shared && this.#room() <= 0 && this.#ahead.due(startedAt);
      const room = () => ahead ? this.#aheadRoom() : this.#room();
      const free = () =>
        journal.shared
          ? Math.min(room(), limits.maxQueue - this.#admitting - this.#active.size)
          : limits.maxQueue - this.#active.size - this.#admitting;
      const hint = free();
      const due = journal.due(this.owner, jobs.leaseMs, this.#active, hint, ahead ? AHEAD_AFTER_MS : 0);
      const claimed: string[] = [];
      try {
        while (!this.#stopping && free() > 0) {
          // A request the queue turns away only for this slot waits for it (see reserve), until the slot is
          // let go or the job it claimed is tracked.
          const settled = Promise.withResolvers<void>();
          this.#claiming = settled.promise;
          try {
            using _slot = this.#holdSlot(); // through the claim's awaits, as for a request
            const next = await due.next();
            if (next.done) break;
            const { record, from, started } = next.value;
            claimed.push(record.id);
            const id = record.id;
            const finished = isFinished(record.state);
            if (finished) this.track(id, pickUp.notify(record), false);
            else {
              // A retry was counted when it was scheduled; a job taken over from a dead server was not; a job
              // another server accepted and left to an idle one (shared journal) starts its first attempt here.
              const handedOver = started ||
                (journal.shared && !from && record.retryAt === undefined && !record.startedAt);
              const attempts = record.retryAt === undefined && !handedOver ? record.attempts + 1 : record.attempts;
              if (handedOver) this.#log?.(jobEvent("job claimed", { ...record, attempts }));
              else if (record.retryAt === undefined) {
                if (from) this.takeovers++;
                this.#log?.(jobEvent("job taken over", { ...record, attempts }, from ? { from } : {}));
              } else this.#log?.(`retrying job ${id} (attempt ${attempts})`);
              this.claims++;
              // The claim wrote owner and lease; a job handed over has nothing more to write (one commit fewer).
              if (!handedOver) await journal.update(id, this.owner, { attempts, retryAt: undefined });
              this.track(id, pickUp.run({ ...record, attempts }, started));
            }
          } finally {
            this.#claiming = undefined;
            settled.resolve();
          }
        }
      } finally {
        await due.return(undefined);
        if (journal.shared && hint > 0) this.#ahead.settle(claimed, startedAt, ahead, claimed.length < hint);
      }
    } catch (err) {
      if (!unwritableJournal(err)) this.#log?.(`journal scan failed: ${(err as Error).message}`);
    } finally {
      this.#scanning = false;
      this.#armAhead();
      if (this.#again) {
        this.#again = false;
        this.#pickUp(pickUp);
      }
    }
  }
}
