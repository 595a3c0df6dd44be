/**
 * The worker pool: spawns the codec workers, keeps each one fed, and
 * replaces a worker that crashes, fails, overruns its time or holds too
 * much memory. This facade holds the state and ties the parts together:
 * dispatch.ts decides which job goes where, slots.ts starts and ends
 * workers and keeps their deadlines, recycle.ts judges their memory, and
 * replies.ts says what their answers mean.
 *
 * @module
 */
import type { CodecModules, LocalSource, OutputOrder, WorkReply } from "../../protocol/work.ts";
import type { WorkerMemory } from "../../protocol/memory.ts";
import { ImgserveError } from "../../protocol/error_codes.ts";
import { dispatch } from "./dispatch.ts";
import { type MemoryStatus, memoryStatus, watchMemory } from "./recycle.ts";
import { type EndReply, type OutputReply, outputResult, settleTask } from "./replies.ts";
import {
  cancelTask,
  CODEC_WORKER,
  endAll,
  endWorker,
  failTasks,
  sendTask,
  type Slot,
  slotState,
  spawnSlot,
  startDeadline,
} from "./slots.ts";
import { newTask, type OutputResult, type OutputsOptions, type Task } from "./task.ts";

/** How to build the pool. */
export interface PoolOptions {
  /** Number of workers. */
  size: number;
  /** Font folders handed to each worker. */
  fontDirs: string[];
  /** CMYK ICC profile for CMYK JPEGs that carry none; copied to each worker as it starts. */
  cmykProfile?: Uint8Array;
  /** A job running longer than this is stopped with its worker. */
  taskTimeoutMs: number;
  /** The worker module; tests substitute one that can be made to crash. */
  workerURL?: URL;
  /** Bytes of WebAssembly memory plus kept buffers a worker may hold; over it, it is replaced between jobs. */
  workerMemory?: number;
  /** How long a worker holding far more than a fresh one stays idle before it is replaced; default 3 s. */
  idleRecycleMs?: number;
}

/**
 * A fixed set of workers behind one queue.
 *
 * @example
 * ```ts
 * await using pool = await WorkerPool.start({ size: 2, fontDirs: [], taskTimeoutMs: 60_000 });
 * const [result] = await pool.runOutputs(source, [{ plan }]);
 * ```
 */
export class WorkerPool {
  #slots: Slot[] = [];
  #queue: Task[] = [];
  #nextId = 1;
  /** Runs the dispatch again once a heavy job has waited long enough for an idle worker. */
  #heavyTimer?: ReturnType<typeof setTimeout>;
  #closed = false;
  #options: PoolOptions;
  /** The codecs, compiled once by the first worker and handed to every worker started after it. */
  #modules?: CodecModules;
  /** Workers replaced after a crash or timeout, for metrics. */
  replaced = 0;
  /** Workers replaced for their memory: over `workerMemory` after a job, or idle far above a fresh one. */
  recycled = 0;
  /** What a worker holds when it has just started (the first one's report). */
  fresh?: WorkerMemory;
  /** Set once an SVG was rendered: workers started from then on start their render process at once. */
  #rendering = false;

  private constructor(options: PoolOptions) {
    this.#options = options;
  }

  /** Starts `size` workers and resolves once all have loaded their codecs. */
  static async start(options: PoolOptions): Promise<WorkerPool> {
    const pool = new WorkerPool(options);
    // The first worker compiles the codecs; the others load their code meanwhile and start with them compiled.
    const first = pool.#spawn();
    await Promise.all([first, ...Array.from({ length: options.size - 1 }, () => pool.#spawn(first))]);
    return pool;
  }

  /** Number of workers. */
  get size(): number {
    return this.#slots.length;
  }

  /** Workers running a job now. */
  get busy(): number {
    return this.#slots.filter((s) => s.tasks.length > 0).length;
  }

  /** Jobs waiting for a worker, including those sent ahead to a busy one. */
  get queued(): number {
    return this.#queue.length + this.#slots.reduce((n, s) => n + Math.max(0, s.tasks.length - 1), 0);
  }

  /** What each worker said it holds after its last job, in pool order. */
  get memory(): WorkerMemory[] {
    return this.#slots.map((s) => s.memory ?? { wasm: 0, kept: 0, heap: 0, render: 0 });
  }

  /** The pool's memory for /healthz: in all, by worker, a fresh worker's, and workers recycled for it. */
  get memoryStatus(): MemoryStatus {
    return memoryStatus(this.memory, this.fresh, this.recycled);
  }

  /** Whether every worker is up or being replaced. */
  get healthy(): boolean {
    return !this.#closed && this.#slots.length === this.#options.size;
  }

  /**
   * Makes several outputs of one source in one worker: the source is read
   * and decoded once, and each output is made from the decoded pixels (an
   * SVG is rendered at each output's size) and handed back, or stored at
   * its `writeTo`, one at a time. All plans share `op` and `source`.
   *
   * An output that fails alone (its encode, its destination) is an
   * `{ ok: false }` result and the others go on; a failure of the whole
   * attempt (unreadable source, failed decode, crash, timeout,
   * {@linkcode JobNotStarted}) rejects, and the outputs already passed to
   * `onOutput` stand. `timeoutMs` bounds the
   * decode and first output, then each next output again: a task of n
   * outputs may take up to n times as long.
   *
   * @example
   * ```ts
   * const results = await pool.runOutputs(source, [{ plan: large }, { plan: thumb, writeTo: "/srv/t.jpg" }], {
   *   timeoutMs: 60_000,
   *   onOutput: (i, result) => console.log(i, result.ok),
   * });
   * ```
   */
  runOutputs(
    source: Uint8Array | LocalSource,
    outputs: OutputOrder[],
    options: OutputsOptions = {},
  ): Promise<OutputResult[]> {
    if (this.#closed) return Promise.reject(new ImgserveError("SHUTTING_DOWN", "the worker pool is closed"));
    if (outputs.length === 0) return Promise.resolve([]);
    const timeoutMs = options.timeoutMs ?? this.#options.taskTimeoutMs;
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const cancel = () => {
        const running = cancelTask(task, this.#queue, this.#slots, signal!.reason);
        if (running) this.#replace(running, signal!.reason);
      };
      const settled = () => signal?.removeEventListener("abort", cancel);
      const task = newTask(this.#nextId++, source, outputs, { ...options, timeoutMs }, (results) => {
        settled();
        resolve(results);
      }, (err) => {
        settled();
        reject(err);
      });
      signal?.addEventListener("abort", cancel, { once: true });
      this.#queue.push(task);
      this.#dispatch();
    });
  }

  /** Terminates every worker; queued jobs fail with SHUTTING_DOWN. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#heavyTimer);
    endAll(this.#queue.splice(0), this.#slots.splice(0));
  }

  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }

  /** Starts a worker, once `after` has started when given (the worker that compiles the codecs). */
  #spawn(after?: Promise<void>): Promise<void> {
    const { slot, init, started } = spawnSlot(this.#options.workerURL ?? CODEC_WORKER, {
      reply: (slot, reply) => this.#reply(slot, reply),
      crash: (slot, error) => this.#replace(slot, error),
    });
    this.#slots.push(slot);
    const start = () =>
      init({
        fontDirs: this.#options.fontDirs,
        modules: this.#modules,
        warmRenderer: this.#rendering,
        cmykProfile: this.#options.cmykProfile,
        memoryBudget: this.#options.workerMemory,
      });
    if (!after) {
      start();
      return started;
    }
    return after.then(start).then(() => started);
  }

  #reply(slot: Slot, reply: WorkReply): void {
    const { type } = reply;
    if (type === "ready") {
      this.#modules ??= reply.modules;
      this.#dispatch();
    } else if (type === "renderer") this.#rendering ||= reply.alive;
    else if (type === "memory") this.#memoryReport(slot, reply.memory);
    else if (type === "rendering") {
      if (slot.tasks[0]?.id === reply.id) this.#startDeadline(slot, 0);
    } else if (type === "output" || type === "outputFailed") this.#output(slot, reply);
    else this.#finish(slot, reply);
  }

  /** Ends a worker that crashed or overran and fails its tasks (see failTasks). */
  #replace(slot: Slot, reason: ImgserveError): void {
    const tasks = slot.tasks;
    slot.tasks = [];
    this.#retire(slot);
    failTasks(tasks, reason);
  }

  #retire(slot: Slot): void {
    endWorker(slot);
    this.#slots = this.#slots.filter((s) => s !== slot);
    if (this.#closed) return;
    if (slot.recycle) this.recycled++;
    else this.replaced++;
    this.#spawn().catch(() => {
      // A worker that cannot even start leaves the pool smaller; healthz reports it.
    });
  }

  /** One output of the running task, handed off: passed on at once, and the next output gets its own time. */
  #output(slot: Slot, reply: OutputReply): void {
    const task = slot.tasks[0];
    if (!task || task.id !== reply.id || reply.index !== task.results.length) return this.#outOfTurn(slot);
    const { result, sound } = outputResult(reply);
    // A codec that failed may have corrupted its memory: the worker finishes this task and is replaced.
    if (!sound) slot.retiring = true;
    task.results.push(result);
    this.#startDeadline(slot, 0);
    task.onOutput?.(reply.index, result);
  }

  #finish(slot: Slot, reply: EndReply): void {
    const task = slot.tasks.shift();
    if (!task || task.id !== reply.id) return this.#outOfTurn(slot);
    clearTimeout(slot.timer);
    const { requeue, sound } = settleTask(task, reply);
    if (!sound) slot.retiring = true;
    if (requeue) this.#queue.unshift(task);
    if (slot.tasks[0]?.cancelled) this.#replace(slot, new ImgserveError("CANCELLED", "the job was cancelled"));
    else if (slot.tasks.length > 0) this.#startDeadline(slot);
    else if (slot.retiring) this.#retire(slot);
    this.#dispatch();
  }

  #outOfTurn(slot: Slot): void {
    this.#replace(slot, new ImgserveError("WORKER_CRASHED", "the image worker answered out of turn"));
  }

  #memoryReport(slot: Slot, memory: WorkerMemory): void {
    slot.memory = memory;
    if (!slot.ready) this.fresh ??= memory;
    watchMemory(slot, memory, {
      fresh: this.fresh,
      budget: this.#options.workerMemory,
      idleMs: this.#options.idleRecycleMs,
      retire: (slot) => this.#retire(slot),
      stillIdle: (slot) => slot.tasks.length === 0 && this.#queue.length === 0 && this.#slots.includes(slot),
    });
  }

  #startDeadline(slot: Slot, extraMs?: number): void {
    startDeadline(slot, (slot, error) => this.#replace(slot, error), extraMs);
  }

  /** Sends what dispatch.ts says to send, and looks again when a heavy job will have waited long enough. */
  #dispatch(): void {
    if (this.#queue.length === 0) return;
    const { sends, wakeAt } = dispatch(this.#slots.map(slotState), this.#queue, performance.now());
    if (wakeAt !== undefined && this.#heavyTimer === undefined) {
      this.#heavyTimer = setTimeout(() => {
        this.#heavyTimer = undefined;
        this.#dispatch();
      }, Math.max(0, wakeAt - performance.now()));
    }
    if (sends.length === 0) return;
    const sent = new Set(sends.map(({ job }) => job));
    this.#queue = this.#queue.filter((task) => !sent.has(task));
    for (const { slot, job } of sends) {
      if (sendTask(this.#slots[slot], job)) this.#startDeadline(this.#slots[slot]);
    }
  }
}
