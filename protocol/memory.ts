/**
 * What a worker holds, as it reports it after each job, and how the pool
 * counts it against `--worker-memory`.
 *
 * @module
 */

/** What a worker holds, in bytes, as it reports it after each job. */
export interface WorkerMemory {
  /** Its codecs' WebAssembly memories. */
  wasm: number;
  /** Buffers it keeps from job to job (the local-source read buffer). */
  kept: number;
  /** Its JavaScript heap (V8's heapTotal for this worker). */
  heap: number;
  /** Its render process's WebAssembly memory, as that process last said (0 when none runs). */
  render: number;
}

/**
 * What `--worker-memory` counts: WebAssembly memories plus kept buffers.
 *
 * @example
 * ```ts
 * budgeted({ wasm: 40 << 20, kept: 4 << 20, heap: 9 << 20, render: 0 }); // 44 MiB
 * ```
 */
export function budgeted(memory: WorkerMemory): number {
  return memory.wasm + memory.kept;
}

/**
 * Everything a worker holds: its budgeted memory, its JS heap and its render process's WebAssembly memory.
 *
 * @example
 * ```ts
 * heldBytes({ wasm: 40 << 20, kept: 4 << 20, heap: 9 << 20, render: 12 << 20 }); // 65 MiB
 * ```
 */
export function heldBytes(memory: WorkerMemory): number {
  return memory.wasm + memory.kept + memory.heap + memory.render;
}
