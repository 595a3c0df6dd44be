/**
 * Gives a large decode's WebAssembly memory back before the encode.
 *
 * A codec's memory only grows: a 25 MP progressive JPEG leaves libjpeg-turbo
 * holding its coefficients (150 MiB), a 25 MP AVIF leaves its decoder
 * holding 800 MiB, and the encoder then grows its own memory beside it. So
 * once a decode has grown the worker's memories by more than
 * WORTH_DROPPING, the decoders that can be made again are dropped and
 * made afresh (from the compiled modules: a millisecond or two), and a
 * garbage collection frees the old memories at once, before the encode
 * starts. The worker's need is then the larger of decode and encode, not
 * their sum (plan_memory.ts), and an idle worker holds no decoder's peak.
 *
 * @module
 */
import v8 from "node:v8";
import vm from "node:vm";
import { wasmMemoryBytes } from "../memory.ts";
import { drop } from "../lazy_codecs.ts";
import { resetJpegScaled } from "./jpeg_scaled.ts";
import { resetJpegDecode } from "../wasm.ts";
import { resetPngDecoder } from "./png_decoder.ts";

/** Smaller growth is kept: making the decoders again and collecting costs more than it saves. */
export const WORTH_DROPPING = 32 * 1024 * 1024;

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
 * more, and collects their memories.
 *
 * @example
 * ```ts
 * const before = wasmMemoryBytes();
 * const image = await decode(bytes);
 * await freeGrownDecoders(before);
 * ```
 */
export async function freeGrownDecoders(before: number): Promise<void> {
  lastGrowth = wasmMemoryBytes() - before;
  if (lastGrowth < WORTH_DROPPING) return;
  const collect = collector();
  if (!collect) return;
  resetJpegScaled();
  resetPngDecoder();
  await resetJpegDecode();
  for (const name of ["webpDec", "avifDec", "gif", "bmp", "lcms"] as const) drop(name);
  // Reading the memories kept them alive to the end of this task (WeakRef's rule): collect on the next one.
  await new Promise((resolve) => setTimeout(resolve, 0));
  collect();
}
