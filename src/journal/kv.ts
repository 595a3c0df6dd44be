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
import { type JobRecord, type SingleOutputRecord, upgraded } from "./record.ts";
import type { Claimed, Journal } from "./mod.ts";

const JOB = "jobs";
const OPEN = "open";
/** Finished jobs by finishing time, so old ones are removed in order. */
const FINISHED = "finished";

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
    return new KvJournal(await Deno.openKv(location), keepFinishedMs, location, log);
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
      this.#kv.atomic()
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
        const finished = r.state === "done" || r.state === "failed";
        return free &&
          (finished ? !!r.callback?.pending && (r.callback.nextAt ?? 0) <= now : (r.retryAt ?? 0) <= now);
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
  watch(_wake: () => void): void {}

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
      const next: JobRecord = { ...upgraded(entry.value), ...patch };
      const finished = next.state === "done" || next.state === "failed";
      const closed = finished && !next.callback?.pending;
      let op = this.#kv.atomic().check(entry);
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
      await this.#write(() => this.#kv.atomic().delete(entry.key).delete([JOB, id]).commit());
      removed++;
    }
    return removed;
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
