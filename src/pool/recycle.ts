/**
 * When a worker is replaced for the memory it holds, not for a failure.
 * WebAssembly memories never shrink, so a worker that grew keeps what it
 * grew: over `--worker-memory` after a job it takes no more jobs and is
 * replaced once it has none; idle far above a fresh worker, it is replaced
 * once it has stayed idle a while.
 *
 * @module
 */
import { budgeted, heldBytes, type WorkerMemory } from "../../protocol/memory.ts";
import type { Slot } from "./slots.ts";

/**
 * An idle worker is replaced when it holds this much more than a fresh one:
 * less is not worth a new worker's start-up (a fraction of a second of CPU,
 * more when its render process must start again).
 */
export const FAR_ABOVE_FRESH = 24 * 1024 * 1024;

/** How long a worker far above a fresh one stays idle before it is replaced, unless the pool is told otherwise. */
export const IDLE_RECYCLE_MS = 3000;

/**
 * What to do about a worker's memory report: `"retire"` (over its budget),
 * `"watchIdle"` (far above a fresh worker: replace it if it stays idle) or
 * `"keep"`. A worker not yet ready, or already retiring, is kept.
 *
 * @example
 * ```ts
 * memoryVerdict(report, { ready: true, retiring: false }, pool.fresh, 512 * 1024 * 1024); // "keep"
 * ```
 */
export function memoryVerdict(
  memory: WorkerMemory,
  slot: { ready: boolean; retiring: boolean },
  fresh: WorkerMemory | undefined,
  budget = Infinity,
): "retire" | "watchIdle" | "keep" {
  if (!slot.ready || slot.retiring) return "keep";
  if (budgeted(memory) > budget) return "retire";
  if (fresh && farAboveFresh(memory, fresh)) return "watchIdle";
  return "keep";
}

/** What {@linkcode watchMemory} needs of the pool. */
export interface RecyclePolicy {
  /** What a fresh worker holds. */
  fresh?: WorkerMemory;
  /** `--worker-memory`, in bytes. */
  budget?: number;
  /** How long a worker far above a fresh one stays idle before it is replaced. */
  idleMs?: number;
  /** Ends the worker and starts another. */
  retire(slot: Slot): void;
  /** Whether the worker is still in the pool with nothing to do, and no job waits. */
  stillIdle(slot: Slot): boolean;
}

/**
 * Acts on a worker's memory report: over its budget, it takes no more jobs
 * (it hands back any it was sent ahead, see workers/codec.ts) and is retired
 * once it has none; far above a fresh worker, it is retired if it stays
 * idle `idleMs`. Either way it counts as recycled, not as replaced.
 *
 * @example
 * ```ts
 * watchMemory(slot, reply.memory, { fresh, budget, retire: (s) => retire(s), stillIdle: () => true });
 * ```
 */
export function watchMemory(slot: Slot, memory: WorkerMemory, policy: RecyclePolicy): void {
  clearTimeout(slot.idleTimer);
  const verdict = memoryVerdict(memory, slot, policy.fresh, policy.budget);
  if (verdict === "retire") {
    slot.retiring = slot.recycle = true;
    if (slot.tasks.length === 0) policy.retire(slot);
  } else if (verdict === "watchIdle") {
    slot.idleTimer = setTimeout(() => {
      if (slot.retiring || !policy.stillIdle(slot)) return;
      slot.recycle = true;
      policy.retire(slot);
    }, policy.idleMs ?? IDLE_RECYCLE_MS);
  }
}

/** Whether a worker holds FAR_ABOVE_FRESH more than a fresh one, its render process aside. */
function farAboveFresh(memory: WorkerMemory, fresh: WorkerMemory): boolean {
  const held = (m: WorkerMemory) => m.wasm + m.kept + m.heap;
  return held(memory) > held(fresh) + FAR_ABOVE_FRESH;
}

/** The pool's memory for /healthz: in all, by worker, a fresh worker's, and workers recycled for it. */
export interface MemoryStatus {
  bytes: number;
  workers: WorkerMemory[];
  fresh?: WorkerMemory;
  recycled: number;
}

/**
 * The pool's memory, from what each worker last said it holds.
 *
 * @example
 * ```ts
 * memoryStatus(pool.memory, pool.fresh, pool.recycled).bytes;
 * ```
 */
export function memoryStatus(workers: WorkerMemory[], fresh: WorkerMemory | undefined, recycled: number): MemoryStatus {
  return { bytes: workers.reduce((sum, m) => sum + heldBytes(m), 0), workers, fresh, recycled };
}
