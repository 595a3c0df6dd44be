/**
 * The resampler's WebAssembly module (codecs/resample.c, built by
 * codecs/build_resample.sh): 128-bit SIMD loops over pixel rows for
 * Lanczos3 (lanczos.ts) and the box shrink (pixels.ts). One instance a
 * realm, reused; its callers lay out its memory from RESAMPLE_START_BYTES
 * and keep within RESAMPLE_BAND_BYTES beyond it (protocol/plan_memory.ts),
 * working on wide images in bands of columns.
 *
 * @module
 */
import { RESAMPLE_BAND_BYTES, RESAMPLE_START_BYTES } from "../../protocol/plan_memory.ts";
import resampleWasm from "../codecs/resample.wasm" with { type: "bytes" };

/** Steps of the linear-to-sRGB table: fine enough that every 8-bit value round-trips. */
const LINEAR_STEPS = 65535;

/** The exported C functions; pointers are byte offsets in `memory`. */
export interface ResampleExports {
  memory: WebAssembly.Memory;
  linear_table(): number;
  unit_table(): number;
  srgb_table(): number;
  filter_row(
    src: number,
    inWidth: number,
    line: number,
    alpha: number,
    first: number,
    count: number,
    weights: number,
    span: number,
    outWidth: number,
    dst: number,
  ): void;
  filter_down(
    ring: number,
    rowFloats: number,
    span: number,
    top: number,
    n: number,
    weights: number,
    width: number,
    alpha: number,
    rows: number,
    scratch: number,
    out: number,
  ): void;
  box_add_row(src: number, width: number, fx: number, sums: number): void;
  box_out(sums: number, width: number, area: number, out: number): void;
}

let compiled: WebAssembly.Module | undefined;
let instance: ResampleExports | undefined;

/** The gamma tables: 8-bit sRGB to linear light, and linear light in LINEAR_STEPS steps to 8-bit sRGB. */
function fillTables(e: ResampleExports): void {
  const toLinear = new Float32Array(e.memory.buffer, e.linear_table(), 256);
  const toUnit = new Float32Array(e.memory.buffer, e.unit_table(), 256);
  for (let i = 0; i < 256; i++) {
    const v = i / 255;
    toLinear[i] = v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    toUnit[i] = v;
  }
  const toSrgb = new Uint8Array(e.memory.buffer, e.srgb_table(), LINEAR_STEPS + 1);
  for (let i = 0; i <= LINEAR_STEPS; i++) {
    const v = i / LINEAR_STEPS;
    toSrgb[i] = Math.round(255 * (v <= 0.0031308 ? v * 12.92 : 1.055 * v ** (1 / 2.4) - 0.055));
  }
}

/**
 * This realm's instance, made on first use (or after a call grew it past its share of the plan's estimate).
 *
 * @example
 * ```ts
 * const e = resampler();
 * ```
 */
export function resampler(): ResampleExports {
  if (instance) return instance;
  compiled ??= new WebAssembly.Module(resampleWasm);
  const e = new WebAssembly.Instance(compiled, {}).exports as unknown as ResampleExports;
  // The layouts start where the module's own memory (its stack and tables) ends.
  if (e.memory.buffer.byteLength !== RESAMPLE_START_BYTES) throw new Error("resample.wasm: unexpected memory size");
  fillTables(e);
  return instance = e;
}

/**
 * Places buffers in the instance's memory, 16-byte aligned, from RESAMPLE_START_BYTES.
 *
 * @example
 * ```ts
 * const layout = new ResampleLayout();
 * const row = layout.take(width * 4);
 * const memory = layout.reserve(resampler());
 * ```
 */
export class ResampleLayout {
  end = RESAMPLE_START_BYTES;

  /** The offset of `bytes` more. */
  take(bytes: number): number {
    const at = this.end;
    this.end += Math.ceil(bytes / 16) * 16;
    return at;
  }

  /** Grows the memory to hold everything taken; its buffer. */
  reserve(e: ResampleExports): ArrayBuffer {
    const grow = Math.ceil((this.end - e.memory.buffer.byteLength) / 65536);
    if (grow > 0) e.memory.grow(grow);
    return e.memory.buffer as ArrayBuffer;
  }
}

/** Lets go of the instance when a call grew it past its share of the plan's estimate, so that memory is freed. */
export function dropIfGrown(e: ResampleExports): void {
  if (e.memory.buffer.byteLength > RESAMPLE_START_BYTES + RESAMPLE_BAND_BYTES && instance === e) instance = undefined;
}
