/**
 * Where job state lives, behind one interface: the embedded Deno KV
 * journal (kv.ts, the default) or a PostgreSQL journal several servers
 * share (postgres.ts), chosen by the location's scheme. The job's steps
 * and the scheduler see only {@linkcode Journal}.
 *
 * @module
 */
import type { JobRecord, JobState } from "./record.ts";
import { KvJournal } from "./kv.ts";

export * from "./record.ts";

/** A job this server has just claimed, and the server whose lease had lapsed on it, if any. */
export interface Claimed {
  record: JobRecord;
  /** The previous owner: the job is taken over from it. */
  from?: string;
  /**
   * The claim journaled the job, left unowned by the server that accepted
   * it, as running (its source needs no download): its attempt writes
   * nothing more for that.
   */
  started?: boolean;
}

/**
 * What another server (or this one) told through the journal: a job it
 * accepted and left unowned (`own`: this server left it), jobs it claimed
 * that had been unowned, or, with neither, some job that may be free to
 * claim (handed back, due again, cancelled).
 */
export interface Announcement {
  left?: { id: string; own: boolean };
  claimed?: string;
}

/** A place in the list's order (newest first): a page goes on after the last job of the one before. */
export interface ListPosition {
  acceptedAt: number;
  id: string;
}

/** Which jobs {@linkcode Journal.list} returns. */
export interface ListQuery {
  /** Only jobs in one of these states; every state when absent. */
  states?: readonly JobState[];
  /** Only jobs accepted at or after this time, ms. */
  since?: number;
  limit: number;
  /** Only jobs after this one in the order. */
  after?: ListPosition;
}

/** One page of the list, and where the next starts when there may be more. */
export interface JobPage {
  records: JobRecord[];
  next?: ListPosition;
}

/** The reply a request with an Idempotency-Key got, kept to answer its repeats. */
export interface KeptReply {
  status: number;
  body: unknown;
  location?: string;
}

/** What an Idempotency-Key is bound to: the request body's digest, and the reply once there is one. */
export interface IdempotencyEntry {
  digest: string;
  reply?: KeptReply;
}

/** What is journaled, and how a server takes its share; see kv.ts and postgres.ts. */
export interface Journal extends AsyncDisposable {
  /** For log lines: the location, credentials masked. */
  readonly location: string;
  /** Whether other servers take jobs from it too. */
  readonly shared: boolean;
  /** Throws JOURNAL_UNAVAILABLE, before anything is written, while the journal cannot be written. */
  assertWritable(): Promise<void>;
  /** Records a newly accepted job; committed when it resolves. */
  put(record: JobRecord): Promise<void>;
  /** The record of a job, if known. */
  get(id: string): Promise<JobRecord | undefined>;
  /**
   * Claims jobs that are due (a retry, a pending callback) and free (no
   * lease, or a lapsed one), one per step; `busy` holds the jobs this
   * server runs already, `hint` says how many more it may take;
   * `freeForMs`: only jobs due and free for at least that long (a shared
   * journal's claim ahead of a free worker, see Scheduler).
   */
  due(
    owner: string,
    leaseMs: number,
    busy: ReadonlyMap<string, unknown>,
    hint: number,
    freeForMs?: number,
  ): AsyncGenerator<Claimed>;
  /**
   * Changes a job this server holds. Resolves false, changing nothing, when
   * the lease was lost to another server: the caller must stop work on it.
   */
  update(id: string, owner: string, patch: Partial<JobRecord>): Promise<boolean>;
  /** Whether this server still holds the job, as far as it can tell before a write it cannot undo (an upload). */
  holds(id: string, owner: string): Promise<boolean>;
  /** Removes jobs finished longer than the keep time ago. */
  sweep(now?: number): Promise<number>;
  /** Whether the journal answers and can be written. */
  healthy(): Promise<boolean>;
  /**
   * Calls `wake` when a server journals work this one might take, or
   * claims a job that was unowned; the KV journal never does.
   */
  watch(wake: (news: Announcement) => void): void;
  /** Jobs not finished, across every server of the journal. */
  queueDepth(): Promise<number>;
  /** Jobs newest first (by accepted time, then id), read from an index: a page costs its own size, not the journal's. */
  list(query: ListQuery): Promise<JobPage>;
  /**
   * Asks for a job to be cancelled: a flag in its record, seen by the
   * server holding it at its next write (a step, a lease renewal), and a
   * job nobody holds becomes due at once so a server claims it and ends
   * it. Resolves with the record as it now stands (a finished one
   * unchanged), or undefined for an unknown id.
   */
  requestCancel(id: string): Promise<JobRecord | undefined>;
  /** Whether a job this server holds was asked to be cancelled, as far as its last write of the job saw. */
  cancelRequested(id: string): boolean;
  /**
   * Puts a failed or cancelled job back in the queue, `patch` applied, due
   * at once and held by nobody. Resolves with the record as it now stands
   * (one in another state unchanged), or undefined for an unknown id.
   */
  reopen(id: string, patch: Partial<JobRecord>): Promise<JobRecord | undefined>;
  /**
   * Binds an Idempotency-Key to a body digest for `ttlMs`, atomically:
   * resolves undefined when this caller now holds the key (unused, or its
   * time over), else with what the key is bound to.
   */
  reserveKey(key: string, digest: string, ttlMs: number): Promise<IdempotencyEntry | undefined>;
  /** Keeps the reply of the request that holds the key. */
  completeKey(key: string, reply: KeptReply): Promise<void>;
  /** Frees a key whose request was refused, so it may be sent again. */
  releaseKey(key: string): Promise<void>;
  close(): Promise<void>;
}

/** Options of {@linkcode openJournal}. */
export interface JournalOptions {
  keepFinishedMs: number;
  /** Told once when writes start failing and once when they work again. */
  log?: (line: string) => void;
  /** Bound of every PostgreSQL query, ms. */
  queryTimeoutMs?: number;
}

/** Whether `location` names a PostgreSQL journal. */
export function isPostgres(location: string): boolean {
  return /^postgres(ql)?:\/\//i.test(location);
}

/**
 * Opens the journal at `location`: `postgres://…` or `postgresql://…` for
 * PostgreSQL, else a Deno KV location (a path, a URL or ":memory:").
 *
 * @example
 * ```ts
 * await using journal = await openJournal(":memory:", { keepFinishedMs: 86_400_000 });
 * ```
 */
export async function openJournal(location: string, options: JournalOptions): Promise<Journal> {
  if (isPostgres(location)) {
    const { PostgresJournal } = await import("./postgres.ts");
    return await PostgresJournal.open(location, options);
  }
  return await KvJournal.open(location, options.keepFinishedMs, options.log);
}
