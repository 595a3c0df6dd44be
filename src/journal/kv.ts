/**
 * The embedded journal, the default: a Deno KV database (a local file, or
 * ":memory:"). A job is written here before the client hears of it, and a
 * server works on a job only while it holds a lease on it, taken and
 * renewed with atomic checks, so two servers never run one job at the
 * same time.
 *
 * @module
 */
import { dirname } from "../../shared/paths.ts";
import { JournalHealth } from "./health.ts";
import { isFinished, type JobRecord, type SingleOutputRecord, upgraded } from "./record.ts";
import type { Announcement, Claimed, IdempotencyEntry, Journal, KeptReply } from "./mod.ts";
import { listPage, listSelectors } from "./kv_list.ts";
import type { JobPage, ListQuery } from "./mod.ts";

const JOB = "jobs";
const OPEN = "open";
/** Finished jobs by finishing time, so old ones are removed in order. */
const FINISHED = "finished";
/** Every job by accepted time, and by state then accepted time: the list's indexes. */
const ACCEPTED = "accepted";
const BY_STATE = "by_state";
const IDEMPOTENCY = "idempotency";
/** Set once the list's indexes hold every job, those journaled before they existed too. */
const INDEXED = ["meta", "list_indexed"];

/** The list's index keys of a record. */
function indexKeys(record: JobRecord): Deno.KvKey[] {
  return [[ACCEPTED, record.acceptedAt, record.id], [BY_STATE, record.state, record.acceptedAt, record.id]];
}

/** Adds to `op` the list's index keys of `next`, replacing those of `previous`; finished jobs' keys expire with them. */
function reindex(op: Deno.AtomicOperation, previous: JobRecord | undefined, next: JobRecord, expireIn?: number) {
  if (previous?.state === next.state && !expireIn) return op;
  if (previous && previous.state !== next.state) op.delete(indexKeys(previous)[1]);
  for (const key of indexKeys(next)) op.set(key, true, expireIn ? { expireIn } : {});
  return op;
}

/**
 * The embedded journal.
 *
 * @example
 * ```ts
 * await using journal = await KvJournal.open(":memory:", 86_400_000);
 * await journal.put(record);
 * ```
 */
export class KvJournal implements Journal {
  #kv: Deno.Kv;
  #keepFinishedMs: number;
  readonly location: string;
  /** One server per KV file in practice (see the README). */
  readonly shared = false;
  /** Whether writes fail, and since when: see {@linkcode KvJournal.#write}. */
  #health: JournalHealth;
  /**
   * The last version this server wrote of each job it holds. An update
   * commits against it without reading the record first; if anyone else
   * wrote meanwhile, the check fails and the record is read as before.
   */
  #held = new Map<string, Deno.KvEntry<JobRecord>>();

  private constructor(kv: Deno.Kv, keepFinishedMs: number, location: string, log?: (line: string) => void) {
    this.#kv = kv;
    this.#keepFinishedMs = keepFinishedMs;
    this.location = location;
    this.#health = new JournalHealth(location, log, {
      down: "cannot be written",
      up: "can be written again",
      running: "jobs whose progress could not be recorded run again then",
    });
  }

  /**
   * Opens (creating) the journal at a KV location: a path, a URL or
   * ":memory:". `log` is told once when writes start failing and once
   * when they work again.
   */
  static async open(location: string, keepFinishedMs: number, log?: (line: string) => void): Promise<KvJournal> {
    if (location !== ":memory:" && !/^[a-z]+:\/\//i.test(location)) {
      await Deno.mkdir(dirname(location), { recursive: true });
    }
    const journal = new KvJournal(await Deno.openKv(location), keepFinishedMs, location, log);
    await journal.#indexOlderJobs();
    return journal;
  }

  /** Once per journal: index jobs journaled by a version before the list's indexes, so they are listed too. */
  async #indexOlderJobs(): Promise<void> {
    if ((await this.#kv.get(INDEXED)).value) return;
    for await (const entry of this.#kv.list<JobRecord | SingleOutputRecord>({ prefix: [JOB] })) {
      await this.#kv.atomic().check(entry).mutate(
        ...indexKeys(upgraded(entry.value)).map((key) => ({ type: "set" as const, key, value: true })),
      ).commit();
    }
    await this.#kv.set(INDEXED, true);
  }

  /**
   * Runs a KV write. When it throws, a one-key probe tells a journal that
   * cannot be written (disk full, read-only, I/O error: JOURNAL_UNAVAILABLE)
   * from a fault of this write alone (thrown as it is). The first failure
   * and the first success after it are logged, nothing in between.
   */
  async #write<T>(commit: () => Promise<T>): Promise<T> {
    let result: T;
    try {
      result = await commit();
    } catch (err) {
      if (!(await this.#probe())) throw this.#health.refusal();
      throw err;
    }
    this.#health.ok();
    return result;
  }

  /** Writes one small key; false, noting why, when the journal cannot be written. */
  #probe(): Promise<boolean> {
    return this.#health.probe(() => this.#kv.set(["health"], Date.now()));
  }

  /**
   * Throws JOURNAL_UNAVAILABLE, before anything is written, while the last
   * write failed and a probe still fails; free while writes work.
   */
  assertWritable(): Promise<void> {
    return this.#health.assertWritable(() => this.#kv.set(["health"], Date.now()));
  }

  /** Records a newly accepted job. */
  async put(record: JobRecord): Promise<void> {
    const result = await this.#write(() =>
      reindex(this.#kv.atomic(), undefined, record)
        .set([JOB, record.id], record)
        .set([OPEN, record.id], true)
        .commit()
    );
    if (!result.ok) throw new Error("the journal refused a new job");
    this.#hold(record, result.versionstamp);
  }

  #hold(record: JobRecord, versionstamp: string): void {
    this.#held.set(record.id, { key: [JOB, record.id], value: record, versionstamp });
  }

  /** The record of a job, if known. */
  async get(id: string): Promise<JobRecord | undefined> {
    const { value } = await this.#kv.get<JobRecord | SingleOutputRecord>([JOB, id]);
    return value ? upgraded(value) : undefined;
  }

  /** Ids of jobs not finished, or finished with a callback still to deliver. */
  async openIds(): Promise<string[]> {
    const ids: string[] = [];
    for await (const entry of this.#kv.list({ prefix: [OPEN] })) ids.push(entry.key[1] as string);
    return ids;
  }

  /**
   * Takes the lease on a job if `eligible` says so, atomically: if another
   * server changed the record meanwhile, nothing is taken.
   */
  async claim(
    id: string,
    owner: string,
    leaseMs: number,
    eligible: (record: JobRecord) => boolean,
  ): Promise<JobRecord | undefined> {
    const entry = await this.#kv.get<JobRecord | SingleOutputRecord>([JOB, id]);
    if (!entry.value || !eligible(upgraded(entry.value))) return undefined;
    const claimed: JobRecord = { ...upgraded(entry.value), owner, leaseUntil: Date.now() + leaseMs };
    const result = await this.#write(() => this.#kv.atomic().check(entry).set([JOB, id], claimed).commit());
    if (!result.ok) return undefined;
    this.#hold(claimed, result.versionstamp);
    return claimed;
  }

  /** Claims, one by one, the open jobs that are due and free: see {@linkcode Journal.due}. */
  async *due(owner: string, leaseMs: number, busy: ReadonlyMap<string, unknown>): AsyncGenerator<Claimed> {
    for (const id of await this.openIds()) {
      if (busy.has(id)) continue;
      const now = Date.now();
      let from: string | undefined;
      const record = await this.claim(id, owner, leaseMs, (r) => {
        from = r.owner;
        const free = !r.owner || (r.leaseUntil ?? 0) < now;
        const due = r.cancelRequested || (r.retryAt ?? 0) <= now;
        return free && (isFinished(r.state) ? !!r.callback?.pending && (r.callback.nextAt ?? 0) <= now : due);
      });
      if (record) yield { record, from };
    }
  }

  /** Jobs not finished. */
  async queueDepth(): Promise<number> {
    let depth = 0;
    for await (const _ of this.#kv.list({ prefix: [OPEN] })) depth++;
    return depth;
  }

  /** One server per KV file: nobody else journals work for it. */
  watch(_wake: (news: Announcement) => void): void {}

  /**
   * Changes a job this server holds. Resolves false, changing nothing, when
   * the lease was lost to another server: the caller must stop work on it.
   */
  async update(id: string, owner: string, patch: Partial<JobRecord>): Promise<boolean> {
    let entry: Deno.KvEntryMaybe<JobRecord | SingleOutputRecord> = this.#held.get(id) ??
      await this.#kv.get<JobRecord | SingleOutputRecord>([JOB, id]);
    while (true) {
      if (!entry.value || entry.value.owner !== owner) {
        this.#held.delete(id);
        return false;
      }
      const previous = upgraded(entry.value);
      const next: JobRecord = { ...previous, ...patch };
      const closed = isFinished(next.state) && !next.callback?.pending;
      let op = reindex(this.#kv.atomic().check(entry), previous, next, closed ? this.#keepFinishedMs : undefined);
      op = closed
        ? op.set([JOB, id], { ...next, owner: undefined, leaseUntil: undefined }, { expireIn: this.#keepFinishedMs })
          .delete([OPEN, id])
          .set([FINISHED, next.finishedAt ?? Date.now(), id], true, { expireIn: this.#keepFinishedMs })
        : op.set([JOB, id], next);
      const result = await this.#write(() => op.commit());
      if (result.ok) {
        if (closed || next.owner !== owner) this.#held.delete(id);
        else this.#hold(next, result.versionstamp);
        return true;
      }
      entry = await this.#kv.get<JobRecord | SingleOutputRecord>([JOB, id]);
    }
  }

  /** Free while this server's last write of the job stands; else the record is read. */
  async holds(id: string, owner: string): Promise<boolean> {
    if (this.#held.get(id)?.value.owner === owner) return true;
    return (await this.#kv.get<JobRecord | SingleOutputRecord>([JOB, id])).value?.owner === owner;
  }

  /**
   * Removes jobs finished longer than the keep time ago. KV's own expiry is
   * only a backstop: it may keep expired keys readable for a long while.
   */
  async sweep(now = Date.now()): Promise<number> {
    let removed = 0;
    const old = this.#kv.list<boolean>({ start: [FINISHED], end: [FINISHED, now - this.#keepFinishedMs] }, {
      limit: 500,
    });
    for await (const entry of old) {
      const id = entry.key[2] as string;
      const record = await this.get(id);
      const op = this.#kv.atomic().delete(entry.key).delete([JOB, id]);
      for (const key of record ? indexKeys(record) : []) op.delete(key);
      await this.#write(() => op.commit());
      removed++;
    }
    return removed;
  }

  /** Jobs newest first, from the accepted-time index (or the state index, one per state asked for). */
  async list(query: ListQuery): Promise<JobPage> {
    const prefixes = query.states?.length ? query.states.map((state) => [BY_STATE, state]) : [[ACCEPTED]];
    const lists = listSelectors(prefixes, query).map((selector) =>
      this.#kv.list<boolean>(selector, { reverse: true, limit: query.limit + 1 })
    );
    return await listPage(lists, query, (ids) => this.#getMany(ids));
  }

  /** Records by id, in order; undefined where one is gone (KV reads at most 10 keys at once). */
  async #getMany(ids: string[]): Promise<(JobRecord | undefined)[]> {
    const chunks = [];
    for (let i = 0; i < ids.length; i += 10) {
      chunks.push(this.#kv.getMany<(JobRecord | SingleOutputRecord)[]>(ids.slice(i, i + 10).map((id) => [JOB, id])));
    }
    return (await Promise.all(chunks)).flat().map((entry) => entry.value ? upgraded(entry.value) : undefined);
  }

  /** Flags the job; a job nobody holds becomes due for the scan at once (see {@linkcode KvJournal.due}). */
  async requestCancel(id: string): Promise<JobRecord | undefined> {
    while (true) {
      const entry = await this.#kv.get<JobRecord | SingleOutputRecord>([JOB, id]);
      if (!entry.value) return undefined;
      const record = upgraded(entry.value);
      if (isFinished(record.state) || record.cancelRequested) return record;
      const next = { ...record, cancelRequested: true };
      const result = await this.#write(() => this.#kv.atomic().check(entry).set([JOB, id], next).commit());
      if (result.ok) return next;
    }
  }

  cancelRequested(id: string): boolean {
    return this.#held.get(id)?.value.cancelRequested === true;
  }

  async reopen(id: string, patch: Partial<JobRecord>): Promise<JobRecord | undefined> {
    while (true) {
      const entry = await this.#kv.get<JobRecord | SingleOutputRecord>([JOB, id]);
      if (!entry.value) return undefined;
      const record = upgraded(entry.value);
      if (record.state !== "failed" && record.state !== "cancelled") return record;
      const next: JobRecord = { ...record, ...patch, state: "queued", owner: undefined, leaseUntil: undefined };
      const op = reindex(this.#kv.atomic().check(entry), record, next)
        .set([JOB, id], next)
        .set([OPEN, id], true);
      if (record.finishedAt !== undefined) op.delete([FINISHED, record.finishedAt, id]);
      const result = await this.#write(() => op.commit());
      if (result.ok) return next;
    }
  }

  /** The key's entry, written only if absent or past its time: one atomic check, so one of simultaneous requests wins. */
  async reserveKey(key: string, digest: string, ttlMs: number): Promise<IdempotencyEntry | undefined> {
    while (true) {
      const entry = await this.#kv.get<IdempotencyEntry & { until: number }>([IDEMPOTENCY, key]);
      if (entry.value && entry.value.until > Date.now()) {
        const { digest, reply } = entry.value;
        return { digest, ...(reply ? { reply } : {}) };
      }
      const value = { digest, until: Date.now() + ttlMs };
      const result = await this.#write(() =>
        this.#kv.atomic().check(entry).set([IDEMPOTENCY, key], value, { expireIn: ttlMs }).commit()
      );
      if (result.ok) return undefined;
    }
  }

  async completeKey(key: string, reply: KeptReply): Promise<void> {
    const entry = await this.#kv.get<IdempotencyEntry & { until: number }>([IDEMPOTENCY, key]);
    if (!entry.value) return;
    const expireIn = Math.max(1, entry.value.until - Date.now());
    await this.#write(() => this.#kv.set([IDEMPOTENCY, key], { ...entry.value, reply }, { expireIn }));
  }

  async releaseKey(key: string): Promise<void> {
    await this.#write(() => this.#kv.delete([IDEMPOTENCY, key]));
  }

  /** Whether the database answers and can be written: one small key is written. */
  healthy(): Promise<boolean> {
    return this.#probe();
  }

  close(): Promise<void> {
    this.#kv.close();
    return Promise.resolve();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
