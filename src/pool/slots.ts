/**
 * A worker slot: one codec worker, the jobs it was sent, the running job's
 * deadline, and the render processes it started. Spawning, deadlines and
 * ending a worker (with its render processes) live here; which job goes
 * where is dispatch.ts's, and what the replies mean is replies.ts's.
 *
 * @module
 */
import type { WorkerMemory } from "../../protocol/memory.ts";
import type { WorkReply, WorkRequest } from "../../protocol/work.ts";
import { ImgserveError } from "../../protocol/error_codes.ts";
import { JobNotStarted, type Task } from "./task.ts";
import type { SlotState } from "./dispatch.ts";

/** One worker and what the pool keeps track of about it. */
export interface Slot {
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

/**
 * The codec worker, named by URL: the pool starts it and speaks to it only
 * through protocol/work.ts, and imports none of its code.
 */
export const CODEC_WORKER = new URL("../../workers/codec.ts", import.meta.url);

/** The worker's start message, but for the stop flag, which each slot makes its own. */
export type WorkerInit = Omit<Extract<WorkRequest, { type: "init" }>, "type" | "stop">;

/** What a slot tells the pool. */
export interface SlotEvents {
  /** Every reply but the render-process PIDs, which the slot keeps itself ("renderer" is passed on too). */
  reply(slot: Slot, reply: WorkReply): void;
  /** The worker crashed (an uncaught error). */
  crash(slot: Slot, error: ImgserveError): void;
}

/**
 * Time allowed for a render process to start (about a second when idle),
 * on top of the render's own time, which only starts once it is up.
 */
export const RENDERER_START_MS = 30_000;

/**
 * Starts a worker in a new slot. It loads its code at once but starts
 * only when `init` is called; `started` resolves once it has loaded its
 * codecs, and rejects if it fails before that.
 *
 * @example
 * ```ts
 * const { slot, init, started } = spawnSlot(url, events);
 * init({ fontDirs: [], warmRenderer: false });
 * await started;
 * ```
 */
export function spawnSlot(
  url: URL,
  events: SlotEvents,
): { slot: Slot; init: (init: WorkerInit) => void; started: Promise<void> } {
  const worker = new Worker(url, { type: "module" });
  const stop = new Int32Array(new SharedArrayBuffer(4));
  const slot: Slot = { worker, tasks: [], ready: false, retiring: false, renderers: new Set(), stop, heaviest: 0 };
  const started = new Promise<void>((resolve, reject) => {
    worker.onmessage = (event: MessageEvent<WorkReply>) => {
      const reply = event.data;
      if (reply.type === "ready") {
        slot.ready = true;
        resolve();
      } else if (reply.type === "renderer") {
        if (reply.alive) slot.renderers.add(reply.pid);
        else slot.renderers.delete(reply.pid);
      }
      events.reply(slot, reply);
    };
    worker.onerror = (event) => {
      // Handled here: an unhandled worker error would end the whole process.
      event.preventDefault();
      if (!slot.ready) reject(new Error(`worker failed to start: ${event.message}`));
      events.crash(slot, new ImgserveError("WORKER_CRASHED", `the image worker crashed: ${event.message}`));
    };
  });
  const init = (init: WorkerInit) =>
    worker.postMessage({ type: "init", ...init, stop: stop.buffer } satisfies WorkRequest);
  return { slot, init, started };
}

/**
 * (Re)starts the running task's deadline, `extraMs` later than its own
 * time: an SVG's render time only starts once the worker says its render
 * process has it, and the process may still be starting. `overrun` is
 * called with PROCESSING_TIMEOUT when it passes.
 *
 * @example
 * ```ts
 * startDeadline(slot, (slot, error) => replace(slot, error));
 * ```
 */
export function startDeadline(
  slot: Slot,
  overrun: (slot: Slot, error: ImgserveError) => void,
  extraMs = slot.tasks[0].outputs[0].plan.op === "rasterize" ? RENDERER_START_MS : 0,
): void {
  const task = slot.tasks[0];
  clearTimeout(slot.timer);
  slot.timer = setTimeout(() => {
    overrun(slot, new ImgserveError("PROCESSING_TIMEOUT", `processing took longer than ${task.timeoutMs} ms`));
  }, task.timeoutMs + extraMs);
}

/**
 * Sends a task to a slot's worker, its bytes transferred; returns whether
 * it is the one the worker runs now (the others wait there, sent ahead).
 *
 * @example
 * ```ts
 * if (sendTask(slot, task)) startDeadline(slot, overrun);
 * ```
 */
export function sendTask(slot: Slot, task: Task): boolean {
  slot.tasks.push(task);
  slot.heaviest = Math.max(slot.heaviest, task.need);
  const { id, bytes, readFrom, outputs } = task;
  slot.worker.postMessage({ type: "run", id, bytes, readFrom, outputs } satisfies WorkRequest, bytes ? [bytes] : []);
  return slot.tasks.length === 1;
}

/**
 * What dispatch.ts needs to know of a slot.
 *
 * @example
 * ```ts
 * dispatch(slots.map(slotState), queue, performance.now());
 * ```
 */
export function slotState(slot: Slot): SlotState {
  return { ready: slot.ready, retiring: slot.retiring, held: slot.tasks.length, heaviest: slot.heaviest };
}

/**
 * Fails the tasks of a worker that crashed or overran: the running one
 * with `reason`; those sent ahead went down with their (transferred) bytes
 * and fail with {@linkcode JobNotStarted}.
 *
 * @example
 * ```ts
 * failTasks(slot.tasks.splice(0), new ImgserveError("WORKER_CRASHED", "the image worker crashed"));
 * ```
 */
export function failTasks(tasks: Task[], reason: ImgserveError): void {
  const [running, ...ahead] = tasks;
  running?.reject(reason);
  for (const task of ahead) {
    task.reject(new JobNotStarted(`the image worker was replaced before it reached this job (${reason.message})`));
  }
}

/**
 * Cancels `task` where it is: taken off `queue` if it waits there (and
 * rejected), or, if a worker runs it, that worker's slot is returned to be
 * ended (render processes killed, as on a timeout). A task sent ahead to a
 * busy worker is rejected and marked, and that worker is ended when it
 * reaches it.
 *
 * @example
 * ```ts
 * const running = cancelTask(task, queue, slots, reason);
 * if (running) replace(running, reason);
 * ```
 */
export function cancelTask(task: Task, queue: Task[], slots: Slot[], reason: ImgserveError): Slot | undefined {
  const queued = queue.indexOf(task);
  if (queued >= 0) {
    queue.splice(queued, 1);
    task.reject(reason);
    return undefined;
  }
  const slot = slots.find((s) => s.tasks.includes(task));
  if (!slot) return undefined;
  if (slot.tasks[0] === task) return slot;
  task.cancelled = true;
  task.reject(reason);
  return undefined;
}

/**
 * Ends a worker and its render processes. Deno's terminate() does not stop
 * a busy worker (measured: a worker in a chain of PNG decodes ran on at full
 * speed); the shared flag stops it at its next stage. The processes get
 * SIGKILL: a render that overran never reads again, so closing its input
 * would not stop it. A pid is forgotten as soon as its process is reaped, so no other
 * process is hit.
 *
 * @example
 * ```ts
 * endWorker(slot);
 * ```
 */
export function endWorker(slot: Slot): void {
  clearTimeout(slot.timer);
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

/**
 * Ends every worker of a pool that closes; each task waiting in `queue`
 * or held by a worker fails with SHUTTING_DOWN.
 *
 * @example
 * ```ts
 * endAll(queue.splice(0), slots.splice(0));
 * ```
 */
export function endAll(queue: Task[], slots: Slot[]): void {
  const closing = () => new ImgserveError("SHUTTING_DOWN", "the server is shutting down");
  for (const task of queue) task.reject(closing());
  for (const slot of slots) {
    endWorker(slot);
    for (const task of slot.tasks) task.reject(closing());
  }
}
