/**
 * Refuses, at validation, a job whose plan alone needs more memory than a
 * worker may hold (`--worker-memory`): it could only fail in the worker, or
 * leave it holding that memory for good.
 *
 * @module
 */
import { ImgserveError } from "../errors.ts";
import { planMemoryBytes } from "../../workers/ops/plan_memory.ts";
import type { Plan } from "../../protocol/plan.ts";

const MiB = 1024 * 1024;

/**
 * Throws WORKER_MEMORY_EXCEEDED when a fresh worker (`freshBytes` of
 * WebAssembly memory) plus the plan's need is over `budget` bytes.
 *
 * @example
 * ```ts
 * assertFitsWorker(plan, 160 * 1024 * 1024, pool.fresh?.wasm ?? 0);
 * ```
 */
export function assertFitsWorker(plan: Plan, budget: number, freshBytes: number): void {
  const need = freshBytes + planMemoryBytes(plan);
  if (need <= budget) return;
  throw new ImgserveError(
    "WORKER_MEMORY_EXCEEDED",
    `making a ${plan.width}x${plan.height} result from this ${plan.source.width}x${plan.source.height} ` +
      `${plan.source.format} needs about ${Math.ceil(need / MiB)} MiB, over the --worker-memory of ` +
      `${Math.round(budget / MiB)} MiB`,
  );
}
