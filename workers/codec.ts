/**
 * The worker: loads the WASM codecs once, then answers
 * the pool's messages (protocol/work.ts), one task at a time.
 * Image bytes travel as transferred ArrayBuffers both ways.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import type { Plan } from "../protocol/plan.ts";
import { plainFailure } from "./ops/failure.ts";
import { Renderer } from "./renderer.ts";
import { setDefaultCmykProfile } from "./ops/colour.ts";
import { StageTimer } from "./ops/timer.ts";
import type { LocalSource, OutputOrder, RunRequest, WorkReply, WorkRequest } from "../protocol/work.ts";
import { compileCodecs, initCodecs } from "./wasm.ts";
import { readLocalSource } from "./local_io.ts";
import { ImgserveError } from "../protocol/error_codes.ts";
import { makeOutputs } from "./make_outputs.ts";
import { trackWasmMemories, wasmMemoryBytes } from "./wasm_memory.ts";
import { budgeted, type WorkerMemory } from "../protocol/memory.ts";
import { release } from "./ops/release.ts";
import { setDecoderBudget } from "./ops/decoder_memory.ts";

let renderer: Renderer | undefined;
/** Set by the pool when it gives this worker up: the job stops at its next stage, nothing more is run. */
let stop: Int32Array<ArrayBufferLike> = new Int32Array(1);
const stopped = () => Atomics.load(stop, 0) === 1;
/** Jobs run one after another; the pool sends the next before this one ends. */
let line: Promise<void> = Promise.resolve();
/** Set by a failed job: the codecs' memory is suspect, so the rest go back unrun. */
let retiring = false;
/** Over it after a job, this worker hands back what it was sent and is replaced. */
let memoryBudget = Infinity;

/**
 * Local sources are read into this, kept from job to job: its pages are
 * faulted in once rather than for every photo. Sources over KEEP_BYTES (a
 * few in a hundred photos) get a buffer of their own, freed when the job
 * ends, so one huge file does not pin its size for good.
 */
let sourceBuffer = new Uint8Array(0);
const KEEP_BYTES = 4 * 1024 * 1024;

function memoryReport(): WorkerMemory {
  const render = renderer?.memory ?? 0;
  return { wasm: wasmMemoryBytes(), kept: sourceBuffer.byteLength, heap: Deno.memoryUsage().heapTotal, render };
}

/** Reports what this worker holds after a job; over its budget it takes no more (WebAssembly memories never shrink). */
function reportMemory(): void {
  const memory = memoryReport();
  if (budgeted(memory) > memoryBudget) retiring = true;
  self.postMessage({ type: "memory", memory } satisfies WorkReply);
}

function read(source: LocalSource): Uint8Array {
  if (source.size > KEEP_BYTES) return readLocalSource(source, new Uint8Array(source.size));
  if (sourceBuffer.byteLength < source.size) {
    sourceBuffer = new Uint8Array(Math.min(KEEP_BYTES, Math.max(source.size, sourceBuffer.byteLength * 2)));
  }
  return readLocalSource(source, sourceBuffer);
}

self.onmessage = async (event: MessageEvent<WorkRequest>) => {
  const message = event.data;
  if (message.type === "init") {
    stop = new Int32Array(message.stop);
    setDefaultCmykProfile(message.cmykProfile);
    memoryBudget = message.memoryBudget ?? Infinity;
    setDecoderBudget(memoryBudget);
    trackWasmMemories();
    const compiled = message.modules ? undefined : await compileCodecs();
    await initCodecs(message.modules ?? compiled!);
    renderer = new Renderer(message.fontDirs, (pid, alive) => {
      self.postMessage({ type: "renderer", pid, alive } satisfies WorkReply);
    });
    self.postMessage({ type: "memory", memory: memoryReport() } satisfies WorkReply);
    self.postMessage({ type: "ready", modules: compiled } satisfies WorkReply);
    if (message.warmRenderer) renderer.warm().catch(() => {}); // a failed start is reported on the first SVG
    return;
  }
  line = line.then(() => runJob(message)).then(reportMemory);
};

async function runJob(message: RunRequest): Promise<void> {
  if (stopped()) return;
  if (retiring) {
    const { bytes } = message;
    self.postMessage({ type: "returned", id: message.id, bytes } satisfies WorkReply, bytes ? [bytes] : []);
    return;
  }
  const timer = new StageTimer(stopped);
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
  try {
    await runOutputs(message.id, message.outputs, bytes, timer);
  } finally {
    if (bytes.buffer !== sourceBuffer.buffer) release(bytes);
  }
}

/** Each output is posted as it is made, then `done`; a failure of the whole source is answered by `failed`. */
async function runOutputs(id: number, outputs: OutputOrder[], bytes: Uint8Array, timer: StageTimer): Promise<void> {
  const rendering = () => self.postMessage({ type: "rendering", id } satisfies WorkReply);
  try {
    await makeOutputs(bytes, outputs, { timer, stopped, renderer: renderer!, rendering }, (index, made) => {
      if (made.ok) {
        const { bytes, size, times } = made;
        self.postMessage({ type: "output", id, index, bytes, size, times } satisfies WorkReply, [bytes]);
        return;
      }
      if (!made.sound) retiring = true;
      const { code, message, sound } = made;
      self.postMessage({ type: "outputFailed", id, index, code, message, sound } satisfies WorkReply);
    });
  } catch (err) {
    reportFailure(id, outputs[0].plan, err);
    return;
  }
  self.postMessage({ type: "done", id } satisfies WorkReply);
}

function reportFailure(id: number, plan: Plan, err: unknown): void {
  if (err instanceof ImgserveError) {
    // Refused by imgserve's own checks (a limit, a damaged source): worded already, and no codec failed.
    const { name: code, message } = err;
    self.postMessage({ type: "failed", id, message, sound: true, code } satisfies WorkReply);
    return;
  }
  // The render process words its own failures and ends itself if need be; the codecs here are worded now.
  const sound = plan.op === "rasterize" && err instanceof Error;
  if (!sound) retiring = true;
  const text = sound ? err.message : plainFailure(
    err,
    plan.source.format,
    Math.max(plan.source.width * plan.source.height, plan.width * plan.height) * 4,
  );
  self.postMessage({ type: "failed", id, message: text, sound } satisfies WorkReply);
}
