/**
 * How much WebAssembly memory a plan needs, from the plan alone (the
 * header's size and coding, the decode scale the worker will choose, the
 * result's size), so a job that cannot fit a worker's budget is refused
 * before anything is decoded. Each codec's memory grows to its own peak,
 * so the needs of decoder, resizer and encoder add up. The bytes per pixel
 * are measured (see the README's Performance section), rounded up.
 *
 * @module
 */
import type { Plan } from "../../protocol/plan.ts";
import { BOX_MARGIN, DECODE_MARGIN } from "./resize.ts";
import { scaleEighths } from "./jpeg_scaled.ts";

/** Memories grow in steps beyond what is asked (Emscripten's heap by up to a fifth). */
const GROWTH = 1.1;
/** The compressed source, copied into the decoder's memory: about a byte a pixel for a fine JPEG. */
const SOURCE_PER_PIXEL = 1;
/** A progressive JPEG's 16-bit coefficients, with libjpeg's padding and buffers: per sample. */
const COEFFICIENT_BYTES = 2.5;
/** PNG: RGBA plus the decoder's scanlines (measured 4.6). */
const PNG_PER_PIXEL = 5;
/** WebP, AVIF, GIF, BMP: RGBA plus the decoder's own planes. */
const OTHER_PER_PIXEL = 8;
/** The resizer: its RGBA copy of the input plus linear-light floats. */
const RESIZE_IN_PER_PIXEL = 20;
/** Its float buffer between the horizontal and the vertical pass. */
const RESIZE_PASS_PER_PIXEL = 16;
/** An encoder (mozjpeg's progressive coding is the hungriest, measured 15). */
const ENCODE_PER_PIXEL = 16;

/**
 * Bytes of WebAssembly memory a plan needs in a worker, on top of a fresh
 * worker's.
 *
 * @example
 * ```ts
 * planMemoryBytes(plan) > budget - freshWorkerBytes; // refuse the job
 * ```
 */
export function planMemoryBytes(plan: Plan): number {
  // An SVG is drawn and encoded in the worker's render process, not in its codecs; svg_cost.ts bounds that.
  if (plan.op !== "resize") return 0;
  const out = plan.width * plan.height;
  const encode = out * ENCODE_PER_PIXEL;
  const { source, crop } = plan;
  const { width, height } = source;
  let scale = 1;
  let decode: number;
  if (source.format === "jpeg") {
    // As resize.ts picks it: at least DECODE_MARGIN times the target over the crop.
    const factor = DECODE_MARGIN * Math.max(plan.width / crop.width, plan.height / crop.height);
    scale = scaleEighths(width, height, Math.ceil(width * factor), Math.ceil(height * factor)) / 8;
    decode = Math.ceil(width * scale) * Math.ceil(height * scale) * 4 +
      ((source.progressiveSamples ?? 0) * COEFFICIENT_BYTES + SOURCE_PER_PIXEL) * width * height;
  } else {
    decode = width * height * ((source.format === "png" ? PNG_PER_PIXEL : OTHER_PER_PIXEL) + SOURCE_PER_PIXEL);
  }
  // As resize.ts's scale(): box-shrunk while far above the target, then Lanczos3 unless already at size.
  const cropWidth = Math.ceil(crop.width * scale), cropHeight = Math.ceil(crop.height * scale);
  const fx = Math.floor(cropWidth / (plan.width * BOX_MARGIN)),
    fy = Math.floor(cropHeight / (plan.height * BOX_MARGIN));
  const boxWidth = fx > 1 ? Math.floor(cropWidth / fx) : cropWidth;
  const boxHeight = fy > 1 ? Math.floor(cropHeight / fy) : cropHeight;
  const resize = boxWidth === plan.width && boxHeight === plan.height
    ? 0
    : boxWidth * boxHeight * RESIZE_IN_PER_PIXEL + plan.width * boxHeight * RESIZE_PASS_PER_PIXEL + out * 4;
  return Math.ceil((decode + resize + encode) * GROWTH);
}
