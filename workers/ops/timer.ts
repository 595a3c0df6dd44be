/**
 * Per-stage timing inside a worker, reported with every result so the
 * benchmark can say where the time goes.
 *
 * @module
 */

/** Milliseconds spent per stage name. */
export type StageTimes = Record<string, number>;

/** Adds up how long each named stage takes. */
export class StageTimer {
  readonly times: StageTimes = {};

  /** Runs `fn`, adding its duration to `stage`. */
  async time<T>(stage: string, fn: () => T | Promise<T>): Promise<T> {
    const start = performance.now();
    try {
      return await fn();
    } finally {
      this.times[stage] = (this.times[stage] ?? 0) + performance.now() - start;
    }
  }

  /** {@linkcode time} for work that does not wait. */
  timeSync<T>(stage: string, fn: () => T): T {
    const start = performance.now();
    try {
      return fn();
    } finally {
      this.times[stage] = (this.times[stage] ?? 0) + performance.now() - start;
    }
  }
}
