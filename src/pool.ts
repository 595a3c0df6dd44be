/**
 * The worker pool: spawns the codec workers, keeps each one fed, and
 * replaces a worker that crashes, fails or overruns its time.
 *
 * A busy worker is sent its next job before it finishes the current one,
 * so it never waits for the server's thread to hand it more (that round
 * trip cost about 2% of each worker's time under load). Only jobs that no
 * idle worker could take are queued up that way.
 *
 * @module
 */
import type {
  CodecModules,
  LocalSource,
  OutputOrder,
  RunRequest,
  StageTimes,
  WorkReply,
  WorkRequest,
} from "../protocol/work.ts";
import { compileCodecs } from "../workers/wasm.ts";
import { ImgserveError, isErrorName } from "./errors.ts";
import { ownBuffer } from "./bytes.ts";
import { budgeted, heldBytes, type WorkerMemory } from "../protocol/memory.ts";
import { planMemoryBytes } from "../workers/ops/plan_memory.ts";

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

/** One output's result, as a destination stores it. */
export interface WorkResult {
  bytes: Uint8Array<ArrayBuffer>;
  times: StageTimes;
}

/**
 * What became of one output: its bytes (empty when the worker wrote
 * `writeTo` itself) and its stage times (the source's read and decode are
 * counted on the first output only), or the error of this output alone.
 * `size`: the encoded result's bytes, also when the worker stored it at `writeTo` and sent none back.
 */
export type OutputResult =
  | ({ ok: true; size: number } & WorkResult)
  | { ok: false; error: ImgserveError };

/** How {@linkcode WorkerPool.runOutputs} runs a task. */
export interface OutputsOptions {
  /**
   * Allowed for the decode and first output, then again for each next output (restarted at each handoff);
   * the pool's `taskTimeoutMs` when not given.
   */
  timeoutMs?: number;
  /** Wait for an idle worker rather than being sent ahead to a busy one. */
  alone?: boolean;
  /** Told of each output as soon as it is made, in list order. */
  onOutput?: (index: number, result: OutputResult) => void;
}

/** A task as the worker is sent it (protocol/work.ts), and what the pool keeps track of while it runs. */
interface Task extends Omit<RunRequest, "type"> {
  /** Only for an idle worker, never sent ahead (a job already lost once that way). */
  alone: boolean;
  /** WebAssembly memory its plan needs (the largest output's), from plan_memory.ts. */
  need: number;
  /** When it was queued (performance.now()). */
  queuedAt: number;
  timeoutMs: number;
  /** What became of the outputs made so far. */
  results: OutputResult[];
  onOutput?: (index: number, result: OutputResult) => void;
  resolve: () => void;
  reject: (err: ImgserveError) => void;
}

interface Slot {
  worker: Worker;
  /** Sent and not answered, in order; the first is running. */
  tasks: Task[];
  /** The running task's deadline. */
  timer?: ReturnType<typeof setTimeout>;
  ready: boolean;
  /** Failed a job: takes no more and is replaced once it has handed back the rest. */
  retiring: boolean;
  /** The worker's render processes that are alive: ended with the worker, as terminate() does not reach them. */
  renderers: Set<number>;
  /** Shared with the worker: set when it is ended, so a busy worker stops at its next stage. */
  stop: Int32Array<SharedArrayBuffer>;
  /** What the worker last said it holds. */
  memory?: WorkerMemory;
  /** Replaced for its memory (budget or idle), not for a failure: counted apart. */
  recycle?: boolean;
  /** Started when the worker goes idle holding far more than a fresh one. */
  idleTimer?: ReturnType<typeof setTimeout>;
  /** The largest `need` of the jobs it was given: its codecs have grown to about that. */
  heaviest: number;
}

/** Jobs a worker holds at once: the one it runs and the next. */
const DEPTH = 2;

/**
 * A job whose plan needs more WebAssembly memory than this is heavy. The
 * memory a job grows stays with its worker (WebAssembly memories never
 * shrink), so heavy jobs go to the worker that has already run the
 * heaviest, and the others stay small: in the bench, a 17.9 MP progressive
 * JPEG had left 85 MiB in each of two workers, and now it is in one.
 * Thumbnails of most photos need under 25 MiB.
 */
const HEAVY_BYTES = 48 * 1024 * 1024;

/**
 * How long a heavy job waits for that worker before an idle one takes it
 * (and grows, after which it takes jobs as heavy without waiting): a stream
 * of heavy jobs still keeps every worker busy.
 */
const HEAVY_WAIT_MS = 2000;

/**
 * Time allowed for a render process to start (about a second when idle),
 * on top of the render's own time, which only starts once it is up.
 */
const RENDERER_START_MS = 30_000;

/**
 * An idle worker is replaced when it holds this much more than a fresh one:
 * less is not worth a new worker's start-up (a fraction of a second of CPU,
 * more when its render process must start again).
 */
const FAR_ABOVE_FRESH = 24 * 1024 * 1024;

/**
 * A job that went down with its worker before the worker reached it (it
 * was sent ahead; its bytes went with it). It never ran: the runner runs
 * it again at once (reading its source again if its bytes were lost),
 * spending no attempt, so it is not tied to the retries of the job that
 * brought the worker down.
 */
export class JobNotStarted extends ImgserveError {
  constructor(message: string) {
    super("WORKER_CRASHED", message);
  }
}

const DEFAULT_WORKER = new URL("../workers/codec.ts", import.meta.url);

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
  #modules: CodecModules;
  /** Workers replaced after a crash or timeout, for metrics. */
  replaced = 0;
  /** Workers replaced for their memory: over `workerMemory` after a job, or idle far above a fresh one. */
  recycled = 0;
  /** What a worker holds when it has just started (the first one's report). */
  fresh?: WorkerMemory;
  /** Set once an SVG was rendered: workers started from then on start their render process at once. */
  #rendering = false;

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
  get memoryStatus(): { bytes: number; workers: WorkerMemory[]; fresh?: WorkerMemory; recycled: number } {
    const workers = this.memory;
    return {
      bytes: workers.reduce((sum, m) => sum + heldBytes(m), 0),
      workers,
      fresh: this.fresh,
      recycled: this.recycled,
    };
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
    const { bytes, readFrom } = taskSource(source);
    return new Promise((resolve, reject) => {
      const task: Task = {
        id: this.#nextId++,
        bytes,
        readFrom,
        timeoutMs: options.timeoutMs ?? this.#options.taskTimeoutMs,
        alone: options.alone ?? false,
        need: Math.max(...outputs.map((output) => planMemoryBytes(output.plan))),
        queuedAt: performance.now(),
        outputs,
        results: [],
        onOutput: options.onOutput,
        resolve: () => resolve(task.results),
        reject,
      };
      this.#queue.push(task);
      this.#dispatch();
    });
  }

  /** Terminates every worker; queued jobs fail with SHUTTING_DOWN. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#heavyTimer);
    for (const task of this.#queue.splice(0)) {
      task.reject(new ImgserveError("SHUTTING_DOWN", "the server is shutting down"));
    }
    for (const slot of this.#slots) {
      clearTimeout(slot.timer);
      endWorker(slot);
      for (const task of slot.tasks) task.reject(new ImgserveError("SHUTTING_DOWN", "the server is shutting down"));
    }
    this.#slots = [];
  }

  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }

  #spawn(): Promise<void> {
    const worker = new Worker(this.#options.workerURL ?? DEFAULT_WORKER, { type: "module" });
    const stop = new Int32Array(new SharedArrayBuffer(4));
    const slot: Slot = { worker, tasks: [], ready: false, retiring: false, renderers: new Set(), stop, heaviest: 0 };
    this.#slots.push(slot);
    return new Promise((resolve, reject) => {
      worker.onmessage = (event: MessageEvent<WorkReply>) => {
        const reply = event.data;
        if (reply.type === "ready") {
          slot.ready = true;
          resolve();
          this.#dispatch();
        } else if (reply.type === "renderer") {
          if (reply.alive) {
            slot.renderers.add(reply.pid);
            this.#rendering = true;
          } else slot.renderers.delete(reply.pid);
        } else if (reply.type === "memory") {
          this.#memoryReport(slot, reply.memory);
        } else if (reply.type === "rendering") {
          if (slot.tasks[0]?.id === reply.id) this.#startTimer(slot, 0);
        } else if (reply.type === "output" || reply.type === "outputFailed") {
          this.#output(slot, reply);
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
        {
          type: "init",
          fontDirs: this.#options.fontDirs,
          modules: this.#modules,
          warmRenderer: this.#rendering,
          stop: stop.buffer,
          cmykProfile: this.#options.cmykProfile,
          memoryBudget: this.#options.workerMemory,
        } satisfies WorkRequest,
      );
    });
  }

  /**
   * Ends a worker that crashed or overran: its running job fails with
   * `reason`; the jobs sent ahead went down with their (transferred) bytes
   * and fail with {@linkcode JobNotStarted}.
   */
  #replace(slot: Slot, reason: ImgserveError): void {
    const [running, ...ahead] = slot.tasks;
    slot.tasks = [];
    this.#retire(slot);
    running?.reject(reason);
    for (const task of ahead) {
      task.reject(new JobNotStarted(`the image worker was replaced before it reached this job (${reason.message})`));
    }
  }

  #retire(slot: Slot): void {
    clearTimeout(slot.timer);
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
  #output(slot: Slot, reply: Extract<WorkReply, { type: "output" | "outputFailed" }>): void {
    const task = slot.tasks[0];
    if (!task || task.id !== reply.id || reply.index !== task.results.length) {
      this.#replace(slot, new ImgserveError("WORKER_CRASHED", "the image worker answered out of turn"));
      return;
    }
    let result: OutputResult;
    if (reply.type === "output") {
      result = { ok: true, bytes: new Uint8Array(reply.bytes), size: reply.size, times: reply.times };
    } else {
      // A codec that failed may have corrupted its memory: the worker finishes this task and is replaced.
      if (!reply.sound) slot.retiring = true;
      result = {
        ok: false,
        error: new ImgserveError(isErrorName(reply.code) ? reply.code : "PROCESSING_FAILED", reply.message),
      };
    }
    task.results.push(result);
    this.#startTimer(slot, 0);
    task.onOutput?.(reply.index, result);
  }

  #finish(
    slot: Slot,
    reply: Exclude<WorkReply, { type: "ready" | "renderer" | "rendering" | "memory" | "output" | "outputFailed" }>,
  ): void {
    const task = slot.tasks.shift();
    if (!task || task.id !== reply.id) {
      this.#replace(slot, new ImgserveError("WORKER_CRASHED", "the image worker answered out of turn"));
      return;
    }
    clearTimeout(slot.timer);
    if (reply.type === "returned") {
      // Handed back unrun by a retiring worker: first in line again.
      task.bytes = reply.bytes;
      task.results = [];
      this.#queue.unshift(task);
    } else if (reply.type === "unreadable") {
      // The name crossed the worker boundary as a plain string.
      task.reject(new ImgserveError(isErrorName(reply.code) ? reply.code : "PROCESSING_FAILED", reply.message));
    } else if (reply.type === "failed") {
      // A codec that failed may have leaked or corrupted its WASM memory
      // (C++ exceptions and Rust panics both can): the worker hands back
      // what it holds and is replaced. A render process looks after itself.
      if (!reply.sound) slot.retiring = true;
      task.reject(
        reply.code !== undefined && isErrorName(reply.code)
          ? new ImgserveError(reply.code, reply.message)
          : new ImgserveError("DECODE_FAILED", `the image could not be processed: ${reply.message}`),
      );
    } else if (task.results.length !== task.outputs.length) {
      task.reject(new ImgserveError("WORKER_CRASHED", "the image worker left outputs unmade"));
    } else {
      task.resolve();
    }
    if (slot.tasks.length > 0) this.#startTimer(slot);
    else if (slot.retiring) this.#retire(slot);
    this.#dispatch();
  }

  /**
   * A worker over its budget takes no more jobs (it hands back any it was
   * sent ahead, see codec.ts) and is replaced once it has none; an idle one
   * far above a fresh worker is replaced once it has stayed idle a while.
   */
  #memoryReport(slot: Slot, memory: WorkerMemory): void {
    slot.memory = memory;
    if (!slot.ready) this.fresh ??= memory;
    clearTimeout(slot.idleTimer);
    const budget = this.#options.workerMemory ?? Infinity;
    if (slot.ready && budgeted(memory) > budget && !slot.retiring) {
      slot.retiring = slot.recycle = true;
      if (slot.tasks.length === 0) this.#retire(slot);
      return;
    }
    if (!slot.ready || !this.fresh || slot.retiring || !this.#farAboveFresh(memory)) return;
    slot.idleTimer = setTimeout(() => {
      if (slot.tasks.length > 0 || slot.retiring || this.#queue.length > 0 || !this.#slots.includes(slot)) return;
      slot.recycle = true;
      this.#retire(slot);
    }, this.#options.idleRecycleMs ?? 3000);
  }

  /**
   * The first queued job that has waited HEAVY_WAIT_MS for the heavy
   * worker, or -1 (and the dispatch runs again when the first one will have).
   */
  #waitedTooLong(): number {
    const now = performance.now();
    const index = this.#queue.findIndex((task) => now - task.queuedAt >= HEAVY_WAIT_MS);
    if (index >= 0 || this.#heavyTimer !== undefined) return index;
    const due = Math.max(0, this.#queue[0].queuedAt + HEAVY_WAIT_MS - now);
    this.#heavyTimer = setTimeout(() => {
      this.#heavyTimer = undefined;
      this.#dispatch();
    }, due);
    return -1;
  }

  /** The worker heavy jobs go to: the one that has run the heaviest job, the first on a tie. */
  #heavySlot(): Slot | undefined {
    let heaviest: Slot | undefined;
    for (const slot of this.#slots) {
      if (!slot.ready || slot.retiring) continue;
      if (!heaviest || slot.heaviest > heaviest.heaviest) heaviest = slot;
    }
    return heaviest;
  }

  #farAboveFresh(memory: WorkerMemory): boolean {
    const held = (m: WorkerMemory) => m.wasm + m.kept + m.heap;
    const now = held(memory), fresh = held(this.fresh!);
    return now > fresh + FAR_ABOVE_FRESH;
  }

  /**
   * (Re)starts the running task's deadline, `extraMs` later than its own
   * time: an SVG's render time only starts once the worker says its render
   * process has it, and the process may still be starting.
   */
  #startTimer(slot: Slot, extraMs = slot.tasks[0].outputs[0].plan.op === "rasterize" ? RENDERER_START_MS : 0): void {
    const task = slot.tasks[0];
    clearTimeout(slot.timer);
    slot.timer = setTimeout(() => {
      this.#replace(slot, new ImgserveError("PROCESSING_TIMEOUT", `processing took longer than ${task.timeoutMs} ms`));
    }, task.timeoutMs + extraMs);
  }

  /**
   * Idle workers first, then one job ahead to each busy one, in the order
   * jobs came. A heavy job goes to a worker that has run one as heavy, or
   * to the one that has run the heaviest; an idle worker takes it anyway
   * once it has waited HEAVY_WAIT_MS.
   */
  #dispatch(): void {
    for (let held = 0; held < DEPTH; held++) {
      for (const slot of this.#slots) {
        if (this.#queue.length === 0) return;
        if (!slot.ready || slot.retiring || slot.tasks.length !== held) continue;
        const heavySlot = this.#heavySlot();
        const fits = (task: Task) =>
          (held === 0 || !task.alone) &&
          (task.need <= Math.max(HEAVY_BYTES, slot.heaviest) || slot === heavySlot);
        let index = this.#queue.findIndex(fits);
        if (index < 0 && held === 0) index = this.#waitedTooLong();
        if (index < 0) continue;
        const [task] = this.#queue.splice(index, 1);
        slot.tasks.push(task);
        slot.heaviest = Math.max(slot.heaviest, task.need);
        if (held === 0) this.#startTimer(slot);
        const { id, bytes, readFrom, outputs } = task;
        slot.worker.postMessage(
          { type: "run", id, bytes, readFrom, outputs } satisfies WorkRequest,
          bytes ? [bytes] : [],
        );
      }
    }
  }
}

/** Source bytes as a buffer to transfer (the caller's, when it is whole), or the local file the worker reads. */
function taskSource(source: Uint8Array | LocalSource): { bytes?: ArrayBuffer; readFrom?: LocalSource } {
  if (!(source instanceof Uint8Array)) return { readFrom: source };
  return { bytes: ownBuffer(source) };
}

/**
 * Ends a worker and its render processes. Deno's terminate() does not stop
 * a busy worker (measured: a worker in a chain of PNG decodes ran on at full
 * speed); the shared flag stops it at its next stage. The processes get
 * SIGKILL: a render that overran never reads again, so closing its input
 * would not stop it. A pid is forgotten as soon as its process is reaped, so no other
 * process is hit.
 */
function endWorker(slot: Slot): void {
  clearTimeout(slot.idleTimer);
  Atomics.store(slot.stop, 0, 1);
  slot.worker.terminate();
  for (const pid of slot.renderers) {
    try {
      Deno.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  slot.renderers.clear();
}
