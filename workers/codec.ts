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
import { setDefaultCmykProfile } from "./ops/colour.ts";
import { StageTimer, type StageTimes } from "./ops/timer.ts";
import { type CodecModules, initCodecs } from "./wasm.ts";
import { readLocalSource, writeFileAtomic } from "../src/transport/file.ts";
import type { LocalSource } from "../src/transport/mod.ts";
import { ImgserveError } from "../src/job/errors.ts";

/** Messages the pool sends. */
export type WorkRequest =
  | { type: "init"; fontDirs: string[]; modules: CodecModules; cmykProfile?: Uint8Array }
  | {
    type: "run";
    id: number;
    plan: Plan;
    /** The source's bytes, or where to read them (a checked local file). */
    bytes?: ArrayBuffer;
    readFrom?: LocalSource;
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
  /** The local source could not be read (an ImgserveError's name); the codecs are fine. */
  | { type: "unreadable"; id: number; code: string; message: string }
  /** Not run: after a failure this worker runs nothing more. */
  | { type: "returned"; id: number; bytes?: ArrayBuffer };

let fonts: FontSet = { buffers: [], families: new Set() };
/** Jobs run one after another; the pool sends the next before this one ends. */
let line: Promise<void> = Promise.resolve();
/** Set by a failed job: the codecs' memory is suspect, so the rest go back unrun. */
let retiring = false;

/**
 * Local sources are read into this, kept from job to job: its pages are
 * faulted in once rather than for every photo. Sources over KEEP_BYTES get
 * a buffer of their own, so one huge file does not pin its size for good.
 */
let sourceBuffer = new Uint8Array(0);
const KEEP_BYTES = 64 * 1024 * 1024;

function read(source: LocalSource): Uint8Array {
  if (source.size > KEEP_BYTES) return readLocalSource(source, new Uint8Array(source.size));
  if (sourceBuffer.byteLength < source.size) {
    sourceBuffer = new Uint8Array(Math.min(KEEP_BYTES, Math.max(source.size, sourceBuffer.byteLength * 2)));
  }
  return readLocalSource(source, sourceBuffer);
}

async function run(
  plan: Plan,
  bytes: Uint8Array,
  timer: StageTimer,
): Promise<{ bytes: ArrayBuffer; times: StageTimes }> {
  const out = plan.op === "resize" ? await resizeOp(bytes, plan, timer) : await rasterizeOp(bytes, plan, fonts, timer);
  return { bytes: out, times: timer.times };
}

self.onmessage = async (event: MessageEvent<WorkRequest>) => {
  const message = event.data;
  if (message.type === "init") {
    setDefaultCmykProfile(message.cmykProfile);
    [fonts] = await Promise.all([loadFonts(message.fontDirs), initCodecs(message.modules)]);
    self.postMessage({ type: "ready", fonts: fonts.buffers.length } satisfies WorkReply);
    return;
  }
  line = line.then(() => runJob(message));
};

async function runJob(message: Extract<WorkRequest, { type: "run" }>): Promise<void> {
  if (retiring) {
    const { bytes } = message;
    self.postMessage({ type: "returned", id: message.id, bytes } satisfies WorkReply, bytes ? [bytes] : []);
    return;
  }
  const timer = new StageTimer();
  let bytes: Uint8Array;
  try {
    bytes = message.readFrom ? timer.timeSync("read", () => read(message.readFrom!)) : new Uint8Array(message.bytes!);
  } catch (err) {
    const error = err instanceof ImgserveError ? err : new ImgserveError("SOURCE_REFUSED", String(err));
    self.postMessage(
      { type: "unreadable", id: message.id, code: error.name, message: error.message } satisfies WorkReply,
    );
    return;
  }
  let result;
  try {
    result = await run(message.plan, bytes, timer);
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
