/**
 * The worker: loads the WASM codecs and fonts once, then answers
 * {@linkcode WorkRequest} messages with {@linkcode WorkReply} messages.
 * Image bytes travel as transferred ArrayBuffers both ways.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import type { Plan } from "../src/job/plan.ts";
import { loadFonts } from "./fonts.ts";
import { type FontSet, rasterizeOp } from "./ops/rasterize.ts";
import { resizeOp } from "./ops/resize.ts";
import { StageTimer, type StageTimes } from "./ops/timer.ts";
import { type CodecModules, initCodecs } from "./wasm.ts";
import { writeFileAtomic } from "../src/transport/file.ts";

/** Messages the pool sends. */
export type WorkRequest =
  | { type: "init"; fontDirs: string[]; modules: CodecModules }
  | {
    type: "run";
    id: number;
    plan: Plan;
    bytes: ArrayBuffer;
    /** A checked local path: store the result there and send back no bytes. */
    writeTo?: string;
  };

/** Messages the worker answers with. */
export type WorkReply =
  | { type: "ready"; fonts: number }
  | { type: "done"; id: number; bytes: ArrayBuffer; times: StageTimes }
  | { type: "failed"; id: number; message: string }
  /** The result was made but could not be stored at `writeTo`; the codecs are fine. */
  | { type: "unwritable"; id: number; message: string }
  /** Not run: after a failure this worker runs nothing more. */
  | { type: "returned"; id: number; bytes: ArrayBuffer };

let fonts: FontSet = { buffers: [], families: new Set() };
/** Jobs run one after another; the pool sends the next before this one ends. */
let line: Promise<void> = Promise.resolve();
/** Set by a failed job: the codecs' memory is suspect, so the rest go back unrun. */
let retiring = false;

async function run(plan: Plan, bytes: ArrayBuffer): Promise<{ bytes: ArrayBuffer; times: StageTimes }> {
  const timer = new StageTimer();
  const out = plan.op === "resize" ? await resizeOp(bytes, plan, timer) : await rasterizeOp(bytes, plan, fonts, timer);
  return { bytes: out, times: timer.times };
}

self.onmessage = async (event: MessageEvent<WorkRequest>) => {
  const message = event.data;
  if (message.type === "init") {
    [fonts] = await Promise.all([loadFonts(message.fontDirs), initCodecs(message.modules)]);
    self.postMessage({ type: "ready", fonts: fonts.buffers.length } satisfies WorkReply);
    return;
  }
  line = line.then(() => runJob(message));
};

async function runJob(message: Extract<WorkRequest, { type: "run" }>): Promise<void> {
  if (retiring) {
    self.postMessage({ type: "returned", id: message.id, bytes: message.bytes } satisfies WorkReply, [message.bytes]);
    return;
  }
  let result;
  try {
    result = await run(message.plan, message.bytes);
  } catch (err) {
    retiring = true;
    // Emscripten codecs throw bare numbers (C++ exception pointers) on bad data.
    const text = err instanceof WebAssembly.RuntimeError || err instanceof RangeError
      ? `the codec ran out of memory or aborted (${err.message})`
      : err instanceof Error
      ? err.message
      : "the codec rejected the data as corrupt or unsupported";
    self.postMessage({ type: "failed", id: message.id, message: text } satisfies WorkReply);
    return;
  }
  if (message.writeTo !== undefined) {
    try {
      const started = performance.now();
      writeFileAtomic(message.writeTo, new Uint8Array(result.bytes));
      result = { bytes: new ArrayBuffer(0), times: { ...result.times, write: performance.now() - started } };
    } catch (err) {
      self.postMessage({ type: "unwritable", id: message.id, message: (err as Error).message } satisfies WorkReply);
      return;
    }
  }
  self.postMessage({ type: "done", id: message.id, ...result } satisfies WorkReply, [result.bytes]);
}
