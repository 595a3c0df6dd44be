/** What a worker's replies mean: an output's result, the error that ends a task, a task handed back. */
import { assert, assertEquals } from "../helpers/assert.ts";
import { ImgserveError } from "../../protocol/error_codes.ts";
import { outputResult, settleTask, taskError } from "../../src/pool/replies.ts";
import type { OutputResult, Task } from "../../src/pool/task.ts";
import { planFor } from "../helpers/pools.ts";

/** A task of `outputs` outputs, and what became of it. */
function task(outputs = 1) {
  const settled: { resolved?: boolean; error?: ImgserveError } = {};
  const value: Task = {
    id: 7,
    outputs: Array.from({ length: outputs }, () => ({ plan: planFor(20, 10) })),
    alone: false,
    need: 0,
    queuedAt: 0,
    timeoutMs: 1000,
    results: [],
    resolve: () => settled.resolved = true,
    reject: (error) => settled.error = error,
  };
  return { task: value, settled };
}

Deno.test("an output reply becomes its bytes, size and times; a failed one its own error, the worker's soundness kept", () => {
  const bytes = new Uint8Array([1, 2, 3]).buffer;
  const made = outputResult({ type: "output", id: 7, index: 0, bytes, size: 3, times: { encode: 4 } });
  assertEquals(made.sound, true);
  assert(made.result.ok);
  assertEquals([[...made.result.bytes], made.result.size, made.result.times], [[1, 2, 3], 3, { encode: 4 }]);
  const failed = outputResult({
    type: "outputFailed",
    id: 7,
    index: 1,
    code: "DESTINATION_NOT_WRITABLE",
    message: "cannot write /x",
    sound: false,
  });
  assertEquals(failed.sound, false);
  const error = (failed.result as Extract<OutputResult, { ok: false }>).error;
  assertEquals([error.code, error.message], [301, "cannot write /x"]);
});

Deno.test("an error name the code table does not know becomes PROCESSING_FAILED (604)", () => {
  const failed = outputResult({ type: "outputFailed", id: 7, index: 0, code: "toString", message: "?", sound: true });
  assertEquals((failed.result as Extract<OutputResult, { ok: false }>).error.code, 604);
  assertEquals(taskError({ type: "unreadable", id: 7, code: "NOPE", message: "?" }).code, 604);
});

Deno.test("a failed task keeps its code when imgserve's checks refused it, else it is DECODE_FAILED (601)", () => {
  const refused = taskError({ type: "failed", id: 7, message: "cut short", sound: true, code: "SOURCE_DAMAGED" });
  assertEquals([refused.code, refused.message], [606, "cut short"]);
  const codec = taskError({ type: "failed", id: 7, message: "bad Huffman table", sound: false });
  assertEquals([codec.code, codec.message], [601, "the image could not be processed: bad Huffman table"]);
  assertEquals(taskError({ type: "unreadable", id: 7, code: "SOURCE_NOT_FOUND", message: "no file" }).code, 202);
});

Deno.test("settleTask: done resolves, unless outputs were left unmade; a failure rejects; a task handed back is queued again", () => {
  const done = task();
  done.task.results.push({ ok: true, bytes: new Uint8Array(), size: 0, times: {} });
  assertEquals(settleTask(done.task, { type: "done", id: 7 }), { requeue: false, sound: true });
  assertEquals(done.settled.resolved, true);

  const short = task(2);
  short.task.results.push({ ok: true, bytes: new Uint8Array(), size: 0, times: {} });
  settleTask(short.task, { type: "done", id: 7 });
  assertEquals([short.settled.resolved, short.settled.error?.code], [undefined, 602]);

  const failed = task();
  assertEquals(settleTask(failed.task, { type: "failed", id: 7, message: "boom", sound: false }), {
    requeue: false,
    sound: false,
  });
  assertEquals(failed.settled.error?.code, 601);
  const unreadable = task();
  assertEquals(
    settleTask(unreadable.task, { type: "unreadable", id: 7, code: "SOURCE_CHANGED", message: "x" }).sound,
    true,
  );

  const back = task();
  back.task.results.push({ ok: true, bytes: new Uint8Array(), size: 0, times: {} });
  const bytes = new ArrayBuffer(4);
  assertEquals(settleTask(back.task, { type: "returned", id: 7, bytes }), { requeue: true, sound: true });
  assertEquals([back.task.bytes, back.task.results, back.settled], [bytes, [], {}]);
});
