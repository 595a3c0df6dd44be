/**
 * Per-stage timing inside a worker, reported with every result so the
 * benchmark can say where the time goes.
 *
 * @module
 */
import type { StageTimes } from "../../protocol/work.ts";

/** Thrown before a stage when the job was given up (its worker is being ended). */
export class Stopped extends Error {
  constructor() {
    super("the job was stopped");
  }
}

/**
 * Adds up how long each named stage takes, and ends the job between two
 * stages once `stopped()` says so: a worker's thread does not stop on
 * `terminate()` while it is busy, only when it is back in its event loop.
 */
export class StageTimer {
  readonly times: StageTimes = {};
  #stopped: () => boolean;

  constructor(stopped: () => boolean = () => false) {
    this.#stopped = stopped;
  }

  /** Runs `fn`, adding its duration to `stage`. */
  async time<T>(stage: string, fn: () => T | Promise<T>): Promise<T> {
    if (this.#stopped()) throw new Stopped();
    const start = performance.now();
    try {
      return await fn();
    } finally {
      this.times[stage] = (this.times[stage] ?? 0) + performance.now() - start;
    }
  }

  /** {@linkcode time} for work that does not wait. */
  timeSync<T>(stage: string, fn: () => T): T {
    if (this.#stopped()) throw new Stopped();
    const start = performance.now();
    try {
      return fn();
    } finally {
      this.times[stage] = (this.times[stage] ?? 0) + performance.now() - start;
    }
  }
}
