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
 * WebAssembly SIMD (resample_wasm.ts): the source rows, the ring, the taps
 * and a result row are copied through its memory, which stays within
 * RESAMPLE_BAND_BYTES (plan_memory.ts) by making a wide result in bands of
 * columns.
 *
 * @module
 */
import type { Rect } from "../../protocol/plan.ts";
import type { Pixels } from "./pixels.ts";
import { RESAMPLE_BAND_BYTES } from "../../protocol/plan_memory.ts";
import { dropIfGrown, ResampleLayout, resampler } from "./resample_wasm.ts";

const LOBES = 3;

/** Each result position's first source index, tap count and weights (`span` slots each). */
interface Taps {
  first: Int32Array;
  count: Int32Array;
  weights: Float32Array;
  span: number;
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
  const e = resampler();
  // An opaque ring row keeps 3 floats a pixel, and one more that the last pixel's vector writes, in whole vectors.
  const floatsFor = (columns: number) => alpha ? columns * 4 : Math.ceil((columns * 3 + 1) / 4) * 4;
  // A result wider than the memory allows is made in bands of columns, each from the source columns its taps reach.
  const perColumn = down.span * 16 + across.span * 4 + 32 + Math.ceil(rect.width / width) * 20;
  const fixed = down.span * 24 + across.span * 20 + 256;
  const bandWidth = Math.max(1, Math.min(width, Math.floor((RESAMPLE_BAND_BYTES - fixed) / perColumn)));
  const bands: { x0: number; x1: number; s0: number; s1: number }[] = [];
  for (let x0 = 0; x0 < width; x0 += bandWidth) {
    const x1 = Math.min(width, x0 + bandWidth);
    let s0 = rect.width, s1 = 0;
    for (let x = x0; x < x1; x++) {
      s0 = Math.min(s0, across.first[x]);
      s1 = Math.max(s1, across.first[x] + across.count[x]);
    }
    bands.push({ x0, x1, s0, s1 });
  }
  const sourceWidth = Math.max(...bands.map((band) => band.s1 - band.s0));
  const layout = new ResampleLayout();
  const take = (bytes: number) => layout.take(bytes);
  const srcRow = take(sourceWidth * 4), line = take(sourceWidth * 16);
  const ring = take(down.span * floatsFor(bandWidth) * 4);
  const first = take(bandWidth * 4), count = take(bandWidth * 4), weights = take(bandWidth * across.span * 4);
  const downWeights = take(down.span * 4), rows = take(down.span * 4), scratch = take(floatsFor(bandWidth) * 4);
  const outRow = take(bandWidth * 4);
  const memory = layout.reserve(e);
  const bytes = new Uint8Array(memory);
  const downView = new Float32Array(memory, downWeights, down.span);
  const out = new Uint8ClampedArray(width * height * 4);
  const data = src.data, a = alpha ? 1 : 0;
  for (const { x0, x1, s0, s1 } of bands) {
    const columns = x1 - x0, rowFloats = floatsFor(columns), rowBytes = (s1 - s0) * 4;
    const firsts = new Int32Array(memory, first, columns);
    for (let x = x0; x < x1; x++) firsts[x - x0] = across.first[x] - s0;
    new Int32Array(memory, count, columns).set(across.count.subarray(x0, x1));
    new Float32Array(memory, weights, columns * across.span).set(
      across.weights.subarray(x0 * across.span, x1 * across.span),
    );
    let next = 0;
    for (let y = 0; y < height; y++) {
      const top = down.first[y], n = down.count[y];
      for (; next < top + n; next++) {
        const s = ((rect.y + next) * src.width + rect.x + s0) * 4;
        bytes.set(data.subarray(s, s + rowBytes), srcRow);
        const dst = ring + (next % down.span) * rowFloats * 4;
        e.filter_row(srcRow, s1 - s0, line, a, first, count, weights, across.span, columns, dst);
      }
      downView.set(down.weights.subarray(y * down.span, y * down.span + n));
      e.filter_down(ring, rowFloats, down.span, top, n, downWeights, columns, a, rows, scratch, outRow);
      out.set(bytes.subarray(outRow, outRow + columns * 4), (y * width + x0) * 4);
    }
  }
  // Only a call no caller makes (a reduction of hundreds of times, with no box shrink before it) grows it further.
  dropIfGrown(e);
  return { data: out, width, height };
}
