/**
 * What a worker's replies (protocol/work.ts) mean to the pool: an output's
 * result, or the error that ends a task. Names of errors cross the worker
 * boundary as plain strings and are checked against the code table here.
 *
 * @module
 */
import type { WorkReply } from "../../protocol/work.ts";
import { type ErrorName, ImgserveError, isErrorName } from "../../protocol/error_codes.ts";
import type { OutputResult, Task } from "./task.ts";

/** A reply about one output of the running task. */
export type OutputReply = Extract<WorkReply, { type: "output" | "outputFailed" }>;

/** A reply that ends the running task: done, failed, unreadable, or handed back unrun. */
export type EndReply = Extract<WorkReply, { type: "done" | "failed" | "unreadable" | "returned" }>;

/**
 * One output's result from its reply, and whether the worker is still
 * sound (a codec that failed may have corrupted its memory).
 *
 * @example
 * ```ts
 * const { result, sound } = outputResult(reply);
 * if (!sound) slot.retiring = true;
 * ```
 */
export function outputResult(reply: OutputReply): { result: OutputResult; sound: boolean } {
  if (reply.type === "output") {
    return {
      result: { ok: true, bytes: new Uint8Array(reply.bytes), size: reply.size, times: reply.times },
      sound: true,
    };
  }
  return { result: { ok: false, error: new ImgserveError(named(reply.code), reply.message) }, sound: reply.sound };
}

/**
 * The error a failed task ends with: a local source the worker could not
 * read, or a failure of the whole source (its code when imgserve's own
 * checks refused it, else DECODE_FAILED).
 *
 * @example
 * ```ts
 * task.reject(taskError({ type: "unreadable", id: 1, code: "SOURCE_NOT_FOUND", message: "no file at /a.png" }));
 * ```
 */
export function taskError(reply: Extract<WorkReply, { type: "failed" | "unreadable" }>): ImgserveError {
  if (reply.type === "unreadable") return new ImgserveError(named(reply.code), reply.message);
  return reply.code !== undefined && isErrorName(reply.code)
    ? new ImgserveError(reply.code, reply.message)
    : new ImgserveError("DECODE_FAILED", `the image could not be processed: ${reply.message}`);
}

/**
 * Settles a task by the reply that ended it. `requeue`: it was handed
 * back unrun by a retiring worker and goes first in line again. `sound`:
 * false when a codec failed and may have leaked or corrupted its WASM
 * memory (C++ exceptions and Rust panics both can), so the worker hands
 * back what it holds and is replaced; a render process looks after itself.
 *
 * @example
 * ```ts
 * const { requeue, sound } = settleTask(task, { type: "done", id: task.id });
 * ```
 */
export function settleTask(task: Task, reply: EndReply): { requeue: boolean; sound: boolean } {
  if (reply.type === "returned") {
    task.bytes = reply.bytes;
    task.results = [];
    return { requeue: true, sound: true };
  }
  if (reply.type === "unreadable" || reply.type === "failed") {
    task.reject(taskError(reply));
    return { requeue: false, sound: reply.type === "unreadable" || reply.sound };
  }
  if (task.results.length !== task.outputs.length) {
    task.reject(new ImgserveError("WORKER_CRASHED", "the image worker left outputs unmade"));
  } else {
    task.resolve();
  }
  return { requeue: false, sound: true };
}

/** A name that is not in the code table (a bug in the worker) is PROCESSING_FAILED. */
function named(code: string): ErrorName {
  return isErrorName(code) ? code : "PROCESSING_FAILED";
}
