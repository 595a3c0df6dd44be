/**
 * Where job state lives. This in-memory journal is the interface the rest
 * of the server talks to; a durable one can take its place.
 *
 * @module
 */

/** The states a job moves through. */
export type JobState = "queued" | "running" | "done" | "failed";

/** What is known about a job. */
export interface JobRecord {
  id: string;
  state: JobState;
  dstURL: string;
  error?: { code: number; message: string };
  width: number;
  height: number;
  acceptedAt: number;
  startedAt?: number;
  finishedAt?: number;
  /** Per-stage times inside the worker, ms. */
  times?: Record<string, number>;
}

/** Stores job records. */
export interface Journal {
  put(record: JobRecord): Promise<void>;
  get(id: string): Promise<JobRecord | undefined>;
  update(id: string, patch: Partial<JobRecord>): Promise<void>;
}

/** Finished jobs kept at most, so memory stays bounded. */
const KEEP_FINISHED = 10_000;

/** A journal in this process's memory, lost on restart. */
export class MemoryJournal implements Journal {
  #records = new Map<string, JobRecord>();
  #finished: string[] = [];

  put(record: JobRecord): Promise<void> {
    this.#records.set(record.id, { ...record });
    return Promise.resolve();
  }

  get(id: string): Promise<JobRecord | undefined> {
    const record = this.#records.get(id);
    return Promise.resolve(record && { ...record });
  }

  update(id: string, patch: Partial<JobRecord>): Promise<void> {
    const record = this.#records.get(id);
    if (!record) return Promise.resolve();
    Object.assign(record, patch);
    if (patch.state === "done" || patch.state === "failed") {
      this.#finished.push(id);
      while (this.#finished.length > KEEP_FINISHED) this.#records.delete(this.#finished.shift()!);
    }
    return Promise.resolve();
  }
}
