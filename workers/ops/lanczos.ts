/**
 * Lanczos3 resampling in linear light, streamed through in strips as
 * libvips does: each source row is filtered horizontally once, into a ring
 * of as many rows as the vertical filter spans, and each result row is made
 * from that ring. Besides the result, it holds a few rows, so its memory
 * grows with the width, not with the area (the codec it replaces held
 * 20 bytes per source pixel and 16 per intermediate pixel in its
 * WebAssembly memory, which never shrinks: 238 MiB for a 3840x2160 result).
 *
 * @module
 */
import type { Rect } from "../../protocol/plan.ts";
import type { Pixels } from "./pixels.ts";

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
  const [linear, srgb] = tables();
  const across = taps(rect.width, width, part?.x, part?.width);
  const down = taps(rect.height, height, part?.y, part?.height);
  // An opaque image is filtered in three channels: its alpha stays 255.
  const ch = alpha ? 4 : 3;
  const rowFloats = width * ch;
  const ring = new Float32Array(down.span * rowFloats);
  // The colour of a source row, premultiplied where there is alpha, and its alpha apart: one colour loop serves both.
  const line = new Float32Array(rect.width * 3);
  const lineAlpha = new Float32Array(alpha ? rect.width : 0);
  const acc = new Float32Array(rowFloats);
  const out = new Uint8ClampedArray(width * height * 4);
  const data = src.data;
  const { first: starts, count: counts, weights: acrossWeights, span: acrossSpan } = across;
  const downWeights = down.weights, downSpan = down.span;
  let next = 0;
  for (let y = 0; y < height; y++) {
    const top = down.first[y], n = down.count[y];
    for (; next < top + n; next++) filterRow(next);
    acc.fill(0);
    for (let k = 0; k < n; k++) {
      const w = downWeights[y * downSpan + k];
      const at = ((top + k) % downSpan) * rowFloats;
      for (let i = 0; i < rowFloats; i++) acc[i] += w * ring[at + i];
    }
    let o = y * width * 4;
    if (!alpha) {
      for (let i = 0; i < rowFloats; i += 3, o += 4) {
        out[o] = srgb[level(acc[i])];
        out[o + 1] = srgb[level(acc[i + 1])];
        out[o + 2] = srgb[level(acc[i + 2])];
        out[o + 3] = 255;
      }
      continue;
    }
    for (let i = 0; i < rowFloats; i += 4, o += 4) {
      const a = acc[i + 3];
      if (a <= 0) continue; // transparent black, as the buffer starts
      const keep = a >= 1 ? 1 : 1 / a;
      out[o] = srgb[level(acc[i] * keep)];
      out[o + 1] = srgb[level(acc[i + 1] * keep)];
      out[o + 2] = srgb[level(acc[i + 2] * keep)];
      out[o + 3] = a * 255;
    }
  }
  return { data: out, width, height };

  /**
   * Source row `row` of the rect, in linear light, filtered across into its slot of the ring. Alpha is a plane of
   * its own with its own loop, rather than a loop over the channels, which would run for every tap of every pixel.
   */
  function filterRow(row: number): void {
    let s = ((rect.y + row) * src.width + rect.x) * 4;
    const at = (row % downSpan) * rowFloats;
    if (alpha) {
      for (let i = 0, x = 0; i < line.length; i += 3, s += 4, x++) {
        const a = lineAlpha[x] = data[s + 3] / 255;
        line[i] = linear[data[s]] * a;
        line[i + 1] = linear[data[s + 1]] * a;
        line[i + 2] = linear[data[s + 2]] * a;
      }
    } else {
      for (let i = 0; i < line.length; i += 3, s += 4) {
        line[i] = linear[data[s]];
        line[i + 1] = linear[data[s + 1]];
        line[i + 2] = linear[data[s + 2]];
      }
    }
    for (let x = 0; x < width; x++) {
      const n = counts[x], wAt = x * acrossSpan, first = starts[x];
      let r = 0, g = 0, b = 0;
      for (let k = 0, p = first * 3; k < n; k++, p += 3) {
        const w = acrossWeights[wAt + k];
        r += w * line[p];
        g += w * line[p + 1];
        b += w * line[p + 2];
      }
      const o = at + x * ch;
      ring[o] = r;
      ring[o + 1] = g;
      ring[o + 2] = b;
      if (!alpha) continue;
      let a = 0;
      for (let k = 0; k < n; k++) a += acrossWeights[wAt + k] * lineAlpha[first + k];
      ring[o + 3] = a;
    }
  }
}

/** A linear value's index in the sRGB table; Lanczos overshoots are clipped. */
function level(v: number): number {
  return v <= 0 ? 0 : v >= 1 ? LINEAR_STEPS : (v * LINEAR_STEPS + 0.5) | 0;
}
