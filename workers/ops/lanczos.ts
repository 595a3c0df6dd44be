/**
 * Lanczos3 resampling in linear light, streamed through in strips as
 * libvips does: each source row is filtered horizontally once, into a ring
 * of as many rows as the vertical filter spans, and each result row is made
 * from that ring. Besides the result, it holds a few rows, so its memory
 * grows with the width, not with the area (the codec it replaces held
 * 20 bytes per source pixel and 16 per intermediate pixel in its
 * WebAssembly memory, which never shrinks: 238 MiB for a 3840x2160 result).
 *
 * The taps are computed here; the loops over the pixels run in 128-bit
 * WebAssembly SIMD (codecs/resample.c, built by codecs/build_resample.sh),
 * one instance a realm, reused: the source rows, the ring, the taps and a
 * result row are copied through its memory, which is dropped after a call
 * that grew it past {@linkcode KEPT_BYTES}.
 *
 * @module
 */
import type { Rect } from "../../protocol/plan.ts";
import type { Pixels } from "./pixels.ts";
import { RESAMPLE_START_BYTES } from "../../protocol/plan_memory.ts";
import resampleWasm from "../codecs/resample.wasm" with { type: "bytes" };

const LOBES = 3;
/** Steps of the linear-to-sRGB table: fine enough that every 8-bit value round-trips. */
const LINEAR_STEPS = 65535;

/** Each result position's first source index, tap count and weights (`span` slots each). */
interface Taps {
  first: Int32Array;
  count: Int32Array;
  weights: Float32Array;
  span: number;
}

let toLinear: Float32Array | undefined;
let toSrgb: Uint8Array | undefined;

function tables(): [Float32Array, Uint8Array] {
  if (!toLinear || !toSrgb) {
    toLinear = new Float32Array(256);
    for (let i = 0; i < 256; i++) {
      const v = i / 255;
      toLinear[i] = v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    }
    toSrgb = new Uint8Array(LINEAR_STEPS + 1);
    for (let i = 0; i <= LINEAR_STEPS; i++) {
      const v = i / LINEAR_STEPS;
      toSrgb[i] = Math.round(255 * (v <= 0.0031308 ? v * 12.92 : 1.055 * v ** (1 / 2.4) - 0.055));
    }
  }
  return [toLinear, toSrgb];
}

function lanczos(x: number): number {
  if (x === 0) return 1;
  if (x <= -LOBES || x >= LOBES) return 0;
  const px = Math.PI * x;
  return LOBES * Math.sin(px) * Math.sin(px / LOBES) / (px * px);
}

/**
 * The filter along one axis: the `extent` source pixels from `offset` (of
 * `from`, the whole row by default; fractional when a larger output's pixels
 * show the crop) onto `to` result pixels, clipped at its edges and normalised.
 */
function taps(from: number, to: number, offset = 0, extent = from): Taps {
  const ratio = extent / to;
  const stretch = Math.max(ratio, 1);
  const support = LOBES * stretch;
  const span = Math.min(from, Math.ceil(support) * 2 + 1);
  const first = new Int32Array(to);
  const count = new Int32Array(to);
  const weights = new Float32Array(to * span);
  const start = Math.max(0, Math.floor(offset)), end = Math.min(from, Math.ceil(offset + extent)) - 1;
  for (let i = 0; i < to; i++) {
    const centre = offset + (i + 0.5) * ratio;
    let lo = Math.max(start, Math.floor(centre - support));
    const hi = Math.min(end, Math.ceil(centre + support));
    if (hi - lo + 1 > span) lo = hi - span + 1;
    let sum = 0;
    for (let j = lo; j <= hi; j++) {
      const w = lanczos((j + 0.5 - centre) / stretch);
      weights[i * span + j - lo] = w;
      sum += w;
    }
    for (let j = lo; j <= hi; j++) weights[i * span + j - lo] /= sum;
    first[i] = lo;
    count[i] = hi - lo + 1;
  }
  return { first, count, weights, span };
}

interface ResampleExports {
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
}

/**
 * Memory a call may leave the instance holding for the next: the rows of a 3840-wide result filtered from 23040
 * pixels (a 6x reduction, the most the box shrink leaves) need 2.7 MiB.
 */
const KEPT_BYTES = 4 * 1024 * 1024;

let compiled: WebAssembly.Module | undefined;
let resampler: ResampleExports | undefined;

/** This realm's instance, made (and its gamma tables filled) on first use or after a large call dropped it. */
function instance(): ResampleExports {
  if (resampler) return resampler;
  compiled ??= new WebAssembly.Module(resampleWasm);
  const e = new WebAssembly.Instance(compiled, {}).exports as unknown as ResampleExports;
  // The layout below starts where the module's own memory (its stack and tables) ends.
  if (e.memory.buffer.byteLength !== RESAMPLE_START_BYTES) throw new Error("resample.wasm: unexpected memory size");
  const [linear, srgb] = tables();
  new Float32Array(e.memory.buffer, e.linear_table(), 256).set(linear);
  const unit = new Float32Array(e.memory.buffer, e.unit_table(), 256);
  for (let i = 0; i < 256; i++) unit[i] = i / 255;
  new Uint8Array(e.memory.buffer, e.srgb_table(), LINEAR_STEPS + 1).set(srgb);
  return resampler = e;
}

/**
 * Resamples the `rect` of `src` to `width` x `height` with Lanczos3 in
 * linear light; with `alpha`, colours are weighted by their opacity
 * (premultiplied), so transparent pixels lend no colour to their neighbours.
 * `part`, in the rect's own coordinates and possibly fractional, is the area
 * that becomes the result when it is not the whole rect.
 *
 * @example
 * ```ts
 * const thumb = lanczos3(image, { x: 0, y: 0, width: image.width, height: image.height }, 200, 120, false);
 * ```
 */
export function lanczos3(src: Pixels, rect: Rect, width: number, height: number, alpha: boolean, part?: Rect): Pixels {
  const across = taps(rect.width, width, part?.x, part?.width);
  const down = taps(rect.height, height, part?.y, part?.height);
  const e = instance();
  // An opaque ring row keeps 3 floats a pixel, and one more that the last pixel's vector writes, in whole vectors.
  const rowFloats = alpha ? width * 4 : Math.ceil((width * 3 + 1) / 4) * 4;
  let end = RESAMPLE_START_BYTES;
  const take = (bytes: number) => {
    const at = end;
    end += Math.ceil(bytes / 16) * 16;
    return at;
  };
  const srcRow = take(rect.width * 4), line = take(rect.width * 16), ring = take(down.span * rowFloats * 4);
  const first = take(width * 4), count = take(width * 4), weights = take(width * across.span * 4);
  const downWeights = take(down.span * 4), rows = take(down.span * 4), scratch = take(rowFloats * 4);
  const outRow = take(width * 4);
  const grow = Math.ceil((end - e.memory.buffer.byteLength) / 65536);
  if (grow > 0) e.memory.grow(grow);
  const memory = e.memory.buffer;
  const bytes = new Uint8Array(memory);
  new Int32Array(memory, first, width).set(across.first);
  new Int32Array(memory, count, width).set(across.count);
  new Float32Array(memory, weights, width * across.span).set(across.weights);
  const downView = new Float32Array(memory, downWeights, down.span);
  const out = new Uint8ClampedArray(width * height * 4);
  const data = src.data, rowBytes = rect.width * 4, a = alpha ? 1 : 0;
  let next = 0;
  for (let y = 0; y < height; y++) {
    const top = down.first[y], n = down.count[y];
    for (; next < top + n; next++) {
      const s = ((rect.y + next) * src.width + rect.x) * 4;
      bytes.set(data.subarray(s, s + rowBytes), srcRow);
      const dst = ring + (next % down.span) * rowFloats * 4;
      e.filter_row(srcRow, rect.width, line, a, first, count, weights, across.span, width, dst);
    }
    downView.set(down.weights.subarray(y * down.span, y * down.span + n));
    e.filter_down(ring, rowFloats, down.span, top, n, downWeights, width, a, rows, scratch, outRow);
    out.set(bytes.subarray(outRow, outRow + width * 4), y * width * 4);
  }
  if (memory.byteLength > KEPT_BYTES) resampler = undefined;
  return { data: out, width, height };
}
