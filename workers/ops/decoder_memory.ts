/**
 * Gives a large decode's WebAssembly memory back before the encode, when
 * the worker needs it.
 *
 * A codec's memory only grows: a 25 MP progressive JPEG leaves libjpeg-turbo
 * holding its coefficients (145 MiB), a 25 MP AVIF leaves its decoder
 * holding 800 MiB, and the encoder then grows its own memory beside it.
 * Kept, that memory serves the next decode as it is; given back, the next
 * large decode grows it again, which cost the bench's corpus a quarter more
 * CPU when every decode over WORTH_DROPPING was given back. So a decode's
 * growth is kept while it is at most KEPT_AT_MOST and the encode still fits
 * the worker's budget beside it; otherwise the decoders that can be made
 * again are made afresh (from the compiled modules) and a garbage
 * collection frees the old memories at once, before the encode starts. A
 * job the 508 check admits (the larger of decode and encode, plan_memory.ts)
 * therefore never takes its worker over `--worker-memory`.
 *
 * @module
 */
import v8 from "node:v8";
import vm from "node:vm";
import { wasmMemoryBytes } from "../wasm_memory.ts";
import { WORTH_DROPPING } from "../../protocol/plan_memory.ts";
import { drop } from "../lazy_codecs.ts";
import { resetJpegScaled } from "./jpeg_scaled.ts";
import { resetJpegDecode } from "../wasm.ts";
import { resetPngDecoder } from "./png_decoder.ts";
import { resetHeicDecoder } from "./heic_decode.ts";

/** Growth kept for the next job when the budget allows: the corpus's 17.9 MP progressive JPEG needs 85 MiB. */
export const KEPT_AT_MOST = 96 * 1024 * 1024;

let budget = Infinity;

/**
 * The worker's `--worker-memory`, in bytes: a decode's memory is given back
 * when the encode would not fit beside it.
 *
 * @example
 * ```ts
 * setDecoderBudget(512 * 1024 * 1024);
 * ```
 */
export function setDecoderBudget(bytes: number): void {
  budget = bytes;
}

let gc: (() => void) | null | undefined;
let lastGrowth = 0;

/**
 * How much the last decode grew this realm's WebAssembly memories, as
 * measured before any of it was given back: the decode's share of the
 * plan's need (plan_memory.ts).
 *
 * @example
 * ```ts
 * await decodeSource(bytes, [plan], timer);
 * lastDecodeGrowth(); // bytes
 * ```
 */
export function lastDecodeGrowth(): number {
  return lastGrowth;
}

/**
 * V8's collector, as `--expose-gc` gives it; set from here so no command
 * line needs the flag. Null where the runtime refuses.
 */
function collector(): (() => void) | null {
  if (gc !== undefined) return gc;
  try {
    v8.setFlagsFromString("--expose-gc");
    gc = vm.runInNewContext("gc") as () => void;
  } catch {
    gc = null;
  }
  return gc;
}

/**
 * Drops every decoder that can be made again when the decode that began
 * with `before` bytes of WebAssembly memory grew them by WORTH_DROPPING or
 * more and either grew them past KEPT_AT_MOST or leaves too little of the
 * budget for the encode (`encodeNeed` bytes); then collects their memories.
 *
 * @example
 * ```ts
 * const before = wasmMemoryBytes();
 * const image = await decode(bytes);
 * await freeGrownDecoders(before, encodeMemoryBytes(plan));
 * ```
 */
export async function freeGrownDecoders(before: number, encodeNeed: number): Promise<void> {
  const now = wasmMemoryBytes();
  lastGrowth = now - before;
  if (lastGrowth < WORTH_DROPPING) return;
  if (lastGrowth <= KEPT_AT_MOST && now + encodeNeed <= budget) return;
  const collect = collector();
  if (!collect) return;
  resetJpegScaled();
  resetPngDecoder();
  resetHeicDecoder();
  await resetJpegDecode();
  for (const name of ["webpDec", "avifDec", "bmp", "lcms"] as const) drop(name);
  // Reading the memories kept them alive to the end of this task (WeakRef's rule): collect on the next one.
  await new Promise((resolve) => setTimeout(resolve, 0));
  collect();
}
