/**
 * scale: the output's region of the decoded pixels at the plan's size.
 * Integer box shrinks first, while the image stays a few times the target
 * (exact and cheap), then Lanczos3 in linear light, streamed in strips
 * (ops/lanczos.ts); both read the region in place. The decoded pixels are
 * left as they are: the next output is made from them too.
 *
 * @module
 */
import type { Plan, Rect } from "../../protocol/plan.ts";
import { boxShrink, copyRect, isOpaque, type Pixels } from "../ops/pixels.ts";
import { lanczos3 } from "../ops/lanczos.ts";
import { release } from "../ops/release.ts";
import { decodeFactor } from "./decode_at_scale.ts";
import { DECODE_MARGIN } from "../../protocol/decode_scale.ts";
import type { OutputImage } from "./step.ts";

/** Pre-shrink with a box filter while the image stays at least this many times the target. */
export const BOX_MARGIN = 3;

/** Sets the output's pixels: its region resampled to plan.width x plan.height. */
export function scale(output: OutputImage): void {
  const { plan, region } = output;
  const source = output.source!;
  // A JPEG decoded larger than this output alone would have been (for a larger one) is box-shrunk down to the
  // margin its own reduced decode would have kept: the same filtering, as cheap as that decode would have been.
  const margin = plan.source.format === "jpeg" && decodeFactor(plan) < source.factor ? DECODE_MARGIN : BOX_MARGIN;
  output.pixels = source.shows
    ? resampleExact(source.image, region!, plan, margin)
    : resample(source.image, region!, plan, margin);
}

/**
 * {@linkcode resample} of a fractional `rect` (a larger output's pixels,
 * pyramid.ts), keeping its exact extent: the box shrink covers whole blocks
 * over it, and Lanczos3 maps just the rect's part of them onto the plan's size.
 */
function resampleExact(src: Pixels, rect: Rect, plan: Plan, margin: number): Pixels {
  const alpha = plan.source.hasAlpha && !isOpaque(src);
  // The whole pixels under the rect, inside the image whatever a float's last bit says.
  const x = Math.max(0, Math.floor(rect.x)), y = Math.max(0, Math.floor(rect.y));
  const bounds = {
    x,
    y,
    width: Math.min(src.width, Math.ceil(rect.x + rect.width)) - x,
    height: Math.min(src.height, Math.ceil(rect.y + rect.height)) - y,
  };
  const fx = Math.max(1, Math.floor(rect.width / (plan.width * margin)));
  const fy = Math.max(1, Math.floor(rect.height / (plan.height * margin)));
  const part = (box: Rect) => ({
    x: (rect.x - box.x) / fx,
    y: (rect.y - box.y) / fy,
    width: rect.width / fx,
    height: rect.height / fy,
  });
  if (fx === 1 && fy === 1) return lanczos3(src, bounds, plan.width, plan.height, alpha, part(bounds));
  // Whole blocks over the rect, moved back from the far edge where they would pass it.
  const width = Math.min(Math.ceil(bounds.width / fx) * fx, src.width - src.width % fx);
  const height = Math.min(Math.ceil(bounds.height / fy) * fy, src.height - src.height % fy);
  const box = { x: Math.min(x, src.width - width), y: Math.min(y, src.height - height), width, height };
  const shrunk = boxShrink(src, fx, fy, box);
  const whole = { x: 0, y: 0, width: shrunk.width, height: shrunk.height };
  const out = lanczos3(shrunk, whole, plan.width, plan.height, alpha, part(box));
  release(shrunk.data);
  return out;
}

/**
 * Box-shrinks `rect` of `src` while it stays at least `margin` times the
 * target, then Lanczos3 to the plan's size. A region already that size
 * is copied out (or is `src` itself when it is the whole image).
 */
function resample(src: Pixels, rect: Rect, plan: Plan, margin = BOX_MARGIN): Pixels {
  const fx = Math.floor(rect.width / (plan.width * margin));
  const fy = Math.floor(rect.height / (plan.height * margin));
  if (fx <= 1 && fy <= 1) {
    if (rect.width === plan.width && rect.height === plan.height) {
      return copyRect(src, rect.x, rect.y, rect.width, rect.height);
    }
    return lanczos3(src, rect, plan.width, plan.height, plan.source.hasAlpha && !isOpaque(src));
  }
  const shrunk = boxShrink(src, Math.max(1, fx), Math.max(1, fy), rect);
  if (shrunk.width === plan.width && shrunk.height === plan.height) return shrunk;
  const whole = { x: 0, y: 0, width: shrunk.width, height: shrunk.height };
  const out = lanczos3(shrunk, whole, plan.width, plan.height, plan.source.hasAlpha && !isOpaque(shrunk));
  release(shrunk.data);
  return out;
}
