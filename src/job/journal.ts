/**
 * Where job state lives: a Deno KV database (a local file by default, or
 * any KV location several servers share). A job is written here before
 * the client hears of it, and a server works on a job only while it holds
 * a lease on it, taken and renewed with atomic checks, so two servers never
 * run one job at the same time.
 *
 * @module
 */
import type { JobArgs } from "./request.ts";
import type { Operation, Plan } from "../../protocol/plan.ts";
import type { ContentDigest as PlaceholderDigest } from "../transport/mod.ts";
import { dirname } from "../../shared/paths.ts";
import { ImgserveError } from "../../protocol/error_codes.ts";

/** The states a job moves through. */
export type JobState = "queued" | "running" | "done" | "failed";

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
  /** The placeholder uploaded for it: a retry that reads it back fails (see originals.ts). */
  placeholder?: PlaceholderDigest;
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
  placeholder?: PlaceholderDigest;
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

const JOB = "jobs";
const OPEN = "open";
/** Finished jobs by finishing time, so old ones are removed in order. */
const FINISHED = "finished";

/**
 * The journal.
 *
 * @example
 * ```ts
 * await using journal = await Journal.open(":memory:", 86_400_000);
 * await journal.put(record);
 * ```
 */
export class Journal {
  #kv: Deno.Kv;
  #keepFinishedMs: number;
  #location: string;
  #log?: (line: string) => void;
  /** Why writes fail, and since when, while they do: see {@linkcode Journal.#write}. */
  #unwritable?: { reason: string; since: number; refused: number };
  /**
   * The last version this server wrote of each job it holds. An update
   * commits against it without reading the record first; if anyone else
   * wrote meanwhile, the check fails and the record is read as before.
   */
  #held = new Map<string, Deno.KvEntry<JobRecord>>();

  private constructor(kv: Deno.Kv, keepFinishedMs: number, location: string, log?: (line: string) => void) {
    this.#kv = kv;
    this.#keepFinishedMs = keepFinishedMs;
    this.#location = location;
    this.#log = log;
  }

  /**
   * Opens (creating) the journal at a KV location: a path, a URL or
   * ":memory:". `log` is told once when writes start failing and once
   * when they work again.
   */
  static async open(location: string, keepFinishedMs: number, log?: (line: string) => void): Promise<Journal> {
    if (location !== ":memory:" && !/^[a-z]+:\/\//i.test(location)) {
      await Deno.mkdir(dirname(location), { recursive: true });
    }
    return new Journal(await Deno.openKv(location), keepFinishedMs, location, log);
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
      if (!(await this.#probe())) throw this.#refusal();
      throw err;
    }
    this.#writable();
    return result;
  }

  /** Writes one small key; false, noting why, when the journal cannot be written. */
  async #probe(): Promise<boolean> {
    try {
      await this.#kv.set(["health"], Date.now());
    } catch (err) {
      if (this.#unwritable) this.#unwritable.refused++;
      else {
        const reason = (err as Error)?.message ?? String(err);
        this.#unwritable = { reason, since: Date.now(), refused: 1 };
        this.#log?.(
          `journal ${this.#location} cannot be written (${reason}): new jobs get 503 (code 509) until it can; ` +
            "jobs whose progress could not be recorded run again then",
        );
      }
      return false;
    }
    this.#writable();
    return true;
  }

  #writable(): void {
    if (!this.#unwritable) return;
    const { since, refused } = this.#unwritable;
    this.#unwritable = undefined;
    this.#log?.(
      `journal ${this.#location} can be written again after ${((Date.now() - since) / 1000).toFixed(1)} s ` +
        `(${refused} failed writes meanwhile); taking jobs again`,
    );
  }

  #refusal(): ImgserveError {
    return new ImgserveError(
      "JOURNAL_UNAVAILABLE",
      `the server's job journal cannot be written (${this.#unwritable?.reason}); the job was not accepted and ` +
        "left nothing at its destinations: try again later",
    );
  }

  /**
   * Throws JOURNAL_UNAVAILABLE, before anything is written, while the last
   * write failed and a probe still fails; free while writes work.
   */
  async assertWritable(): Promise<void> {
    if (this.#unwritable && !(await this.#probe())) throw this.#refusal();
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

  close(): void {
    this.#kv.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }
}
