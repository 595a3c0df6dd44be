/**
 * Worker pools for tests that need one worker to crash: the real codec
 * worker, made to crash on any job whose result is 13 pixels wide (see
 * fixtures/crashing_worker.ts).
 *
 * @module
 */
import { WorkerPool } from "../../src/pool.ts";

/** A pool of one worker that crashes on a 13-pixel-wide result. */
export function crashingPool(): Promise<WorkerPool> {
  return WorkerPool.start({
    size: 1,
    fontDirs: [],
    taskTimeoutMs: 60_000,
    workerURL: new URL("../fixtures/crashing_worker.ts", import.meta.url),
  });
}
