/**
 * The worker pool: spawns the codec workers, hands each one job at a time,
 * and replaces a worker that crashes or overruns its time, failing only the
 * job it was running.
 *
 * @module
 */
import type { StageTimes } from "../workers/ops/timer.ts";
import type { WorkReply, WorkRequest } from "../workers/codec.ts";
import { type CodecModules, compileCodecs } from "../workers/wasm.ts";
import { ImgserveError } from "./job/errors.ts";
import type { Plan } from "./job/plan.ts";

/** How to build the pool. */
export interface PoolOptions {
  /** Number of workers. */
  size: number;
  /** Font folders handed to each worker. */
  fontDirs: string[];
  /** A job running longer than this is stopped with its worker. */
  taskTimeoutMs: number;
  /** The worker module; tests substitute one that can be made to crash. */
  workerURL?: URL;
}

/** A finished piece of work. */
export interface WorkResult {
  bytes: Uint8Array<ArrayBuffer>;
  times: StageTimes;
}

interface Task {
  plan: Plan;
  bytes: ArrayBuffer;
  timeoutMs: number;
  resolve: (result: WorkResult) => void;
  reject: (err: ImgserveError) => void;
}

interface Slot {
  worker: Worker;
  task?: Task;
  timer?: ReturnType<typeof setTimeout>;
  ready: boolean;
}

const DEFAULT_WORKER = new URL("../workers/codec.ts", import.meta.url);

/**
 * A fixed set of workers behind one queue.
 *
 * @example
 * ```ts
 * await using pool = await WorkerPool.start({ size: 2, fontDirs: [], taskTimeoutMs: 60_000 });
 * const { bytes } = await pool.run(plan, source);
 * ```
 */
export class WorkerPool {
  #slots: Slot[] = [];
  #queue: Task[] = [];
  #nextId = 1;
  #closed = false;
  #options: PoolOptions;
  #modules: CodecModules;
  /** Workers replaced after a crash or timeout, for metrics. */
  replaced = 0;

  private constructor(options: PoolOptions, modules: CodecModules) {
    this.#options = options;
    this.#modules = modules;
  }

  /** Starts `size` workers and resolves once all have loaded their codecs. */
  static async start(options: PoolOptions): Promise<WorkerPool> {
    const pool = new WorkerPool(options, await compileCodecs());
    await Promise.all(Array.from({ length: options.size }, () => pool.#spawn()));
    return pool;
  }

  /** Number of workers. */
  get size(): number {
    return this.#slots.length;
  }

  /** Workers running a job now. */
  get busy(): number {
    return this.#slots.filter((s) => s.task).length;
  }

  /** Jobs waiting for a worker. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Whether every worker is up or being replaced. */
  get healthy(): boolean {
    return !this.#closed && this.#slots.length === this.#options.size;
  }

  /**
   * Runs a plan on source bytes in the next free worker. The bytes' buffer
   * is transferred, so the caller must not use it afterwards.
   */
  run(plan: Plan, bytes: Uint8Array, timeoutMs = this.#options.taskTimeoutMs): Promise<WorkResult> {
    if (this.#closed) return Promise.reject(new ImgserveError("SHUTTING_DOWN", "the worker pool is closed"));
    const buffer = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
      ? bytes.buffer as ArrayBuffer
      : bytes.slice().buffer;
    return new Promise((resolve, reject) => {
      this.#queue.push({ plan, bytes: buffer, timeoutMs, resolve, reject });
      this.#dispatch();
    });
  }

  /** Terminates every worker; queued jobs fail with SHUTTING_DOWN. */
  close(): void {
    this.#closed = true;
    for (const task of this.#queue.splice(0)) {
      task.reject(new ImgserveError("SHUTTING_DOWN", "the server is shutting down"));
    }
    for (const slot of this.#slots) {
      clearTimeout(slot.timer);
      slot.worker.terminate();
      slot.task?.reject(new ImgserveError("SHUTTING_DOWN", "the server is shutting down"));
    }
    this.#slots = [];
  }

  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }

  #spawn(): Promise<void> {
    const worker = new Worker(this.#options.workerURL ?? DEFAULT_WORKER, { type: "module" });
    const slot: Slot = { worker, ready: false };
    this.#slots.push(slot);
    return new Promise((resolve, reject) => {
      worker.onmessage = (event: MessageEvent<WorkReply>) => {
        const reply = event.data;
        if (reply.type === "ready") {
          slot.ready = true;
          resolve();
          this.#dispatch();
        } else {
          this.#finish(slot, reply);
        }
      };
      worker.onerror = (event) => {
        // Handled here: an unhandled worker error would end the whole process.
        event.preventDefault();
        if (!slot.ready) reject(new Error(`worker failed to start: ${event.message}`));
        this.#replace(slot, new ImgserveError("WORKER_CRASHED", `the image worker crashed: ${event.message}`));
      };
      worker.postMessage(
        { type: "init", fontDirs: this.#options.fontDirs, modules: this.#modules } satisfies WorkRequest,
      );
    });
  }

  #replace(slot: Slot, reason: ImgserveError): void {
    clearTimeout(slot.timer);
    slot.worker.terminate();
    const task = slot.task;
    slot.task = undefined;
    this.#slots = this.#slots.filter((s) => s !== slot);
    task?.reject(reason);
    if (this.#closed) return;
    this.replaced++;
    this.#spawn().catch(() => {
      // A worker that cannot even start leaves the pool smaller; healthz reports it.
    });
  }

  #finish(slot: Slot, reply: Exclude<WorkReply, { type: "ready" }>): void {
    if (reply.type === "failed") {
      // A codec that failed may have leaked or corrupted its WASM memory
      // (C++ exceptions and Rust panics both can): start afresh.
      this.#replace(slot, new ImgserveError("DECODE_FAILED", `the image could not be processed: ${reply.message}`));
      this.#dispatch();
      return;
    }
    const task = slot.task;
    clearTimeout(slot.timer);
    slot.task = undefined;
    task?.resolve({ bytes: new Uint8Array(reply.bytes), times: reply.times });
    this.#dispatch();
  }

  #dispatch(): void {
    for (const slot of this.#slots) {
      if (this.#queue.length === 0) return;
      if (!slot.ready || slot.task) continue;
      const task = this.#queue.shift()!;
      slot.task = task;
      const id = this.#nextId++;
      slot.timer = setTimeout(() => {
        this.#replace(
          slot,
          new ImgserveError("PROCESSING_TIMEOUT", `processing took longer than ${task.timeoutMs} ms`),
        );
      }, task.timeoutMs);
      slot.worker.postMessage(
        { type: "run", id, plan: task.plan, bytes: task.bytes } satisfies WorkRequest,
        [task.bytes],
      );
    }
  }
}
