/**
 * How much WebAssembly memory a plan needs, from the plan alone (the
 * header's size and coding, the decode scale the worker will choose, the
 * result's size), so a job that cannot fit a worker's budget is refused
 * before anything is decoded. Each codec's memory grows to its own peak,
 * so the needs of decoder, resizer and encoder add up.
 *
 * @module
 */
import type { Plan } from "../../src/job/plan.ts";
import { BOX_MARGIN, DECODE_MARGIN } from "./resize.ts";
import { scaleEighths } from "./jpeg_scaled.ts";

/**
 * Bytes a plan needs on top of a fresh worker's memory.
 *
 * @example
 * ```ts
 * planMemoryBytes(plan) > budget - freshWorkerBytes; // refuse the job
 * ```
 */
export function planMemoryBytes(plan: Plan): number {
  const out = plan.width * plan.height;
  // The encoder's copy of the pixels and its output, at most as large again.
  const encode = out * 8;
  // resvg's pixmap (in the render process).
  if (plan.op !== "resize") return out * 4 + encode;
  const { source, crop } = plan;
  let scale = 1;
  let decode: number;
  if (source.format === "jpeg") {
    // As resize.ts picks it: at least DECODE_MARGIN times the target over the crop.
    const factor = DECODE_MARGIN * Math.max(plan.width / crop.width, plan.height / crop.height);
    const { width, height } = source;
    scale = scaleEighths(width, height, Math.ceil(width * factor), Math.ceil(height * factor)) / 8;
    // RGBA at that scale, plus every 16-bit coefficient of the whole image for a progressive one.
    decode = Math.ceil(width * scale) * Math.ceil(height * scale) * 4 +
      (source.progressiveSamples ?? 0) * 2 * width * height;
  } else {
    // RGBA plus the decoder's own planes or scanlines (up to 8 bytes a pixel for 16-bit PNG).
    decode = source.width * source.height * 8;
  }
  // The resizer gets the crop box-shrunk to at most 2 * BOX_MARGIN times the target a side, and gives the result.
  const cropped = Math.ceil(crop.width * scale) * Math.ceil(crop.height * scale);
  const resize = (Math.min(cropped, 4 * BOX_MARGIN * BOX_MARGIN * out) + out) * 4;
  return decode + resize + encode;
}
