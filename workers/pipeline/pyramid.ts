/**
 * The pyramid: a smaller output of a job made from a larger output's
 * scaled pixels, before that one is encoded, rather than from the whole
 * decoded source, as libvips shrinks through a pyramid. The larger one's
 * pixels are a few times fewer than the decoded source's, so the smaller
 * one's box shrink and Lanczos3 read a fraction of what they would.
 *
 * The rule ({@linkcode feedersOf}): an output is made from another output's
 * pixels when that output is made from the decoded source itself (one level,
 * no chains), its crop contains this output's crop, its pixels are at least
 * {@linkcode PYRAMID_MARGIN} times as dense as this output's in both axes
 * (so Lanczos3 still has pixels to filter, as a reduced JPEG decode keeps),
 * and it is itself smaller than the decoded pixels it is made from (a copy
 * or an enlargement would save nothing). Of several, the one with the
 * fewest pixels. A source with transparent pixels makes every output
 * directly. The pixels are taken after scale and before flatten, so a
 * JPEG's white never reaches an output that keeps alpha.
 *
 * @module
 */
import type { Plan, Rect } from "../../protocol/plan.ts";
import { isOpaque, type Pixels } from "../ops/pixels.ts";
import type { OutputImage, SourceImage } from "./step.ts";

/**
 * A feeding output's pixels are at least this many times as dense as the
 * fed output's, over its crop, in each axis: the margin a reduced JPEG
 * decode keeps (protocol/decode_scale.ts), and where the fed outputs stay
 * at 40 dB or more against the direct path (docs/performance.md).
 */
export const PYRAMID_MARGIN = 2;

/**
 * For each plan, the index of the plan whose pixels it is made from, or
 * undefined when it is made from the decoded source. `decoded` are the
 * decoded pixels (a JPEG's may be reduced).
 *
 * @example
 * ```ts
 * feedersOf([large, card, thumb], source.image); // [undefined, 0, 0]
 * ```
 */
export function feedersOf(plans: Plan[], decoded: Pixels): (number | undefined)[] {
  const { width, height, hasAlpha } = plans[0].source;
  // The direct path box-shrinks straight (not premultiplied) colours, which the pyramid's premultiplied Lanczos3
  // does not reproduce where transparency changes: 36 dB on a wallpaper with transparent parts.
  if (plans.length < 2 || (hasAlpha && !isOpaque(decoded))) return plans.map(() => undefined);
  const direct = (plan: Plan) =>
    plan.op === "resize" && plan.width / plan.crop.width < decoded.width / width &&
    plan.height / plan.crop.height < decoded.height / height;
  // The densest outputs first: an output can only be fed by a denser one.
  const order = plans.map((_, i) => i).sort((a, b) => density(plans[b]) - density(plans[a]));
  const feeders: (number | undefined)[] = plans.map(() => undefined);
  const feeding: number[] = [];
  for (const i of order) {
    const plan = plans[i];
    const from = feeding.filter((j) => feeds(plans[j], plan))
      .sort((a, b) => plans[a].width * plans[a].height - plans[b].width * plans[b].height)[0];
    feeders[i] = from;
    if (from === undefined && direct(plan)) feeding.push(i);
  }
  return feeders;
}

/** Result pixels per source pixel, the smaller of the two axes. */
function density(plan: Plan): number {
  return Math.min(plan.width / plan.crop.width, plan.height / plan.crop.height);
}

/** Whether `large`'s pixels can make `small`: its crop inside, dense enough in both axes, the same frame. */
function feeds(large: Plan, small: Plan): boolean {
  return small.op === "resize" && (large.frame ?? 0) === (small.frame ?? 0) && contains(large.crop, small.crop) &&
    large.width / large.crop.width >= PYRAMID_MARGIN * small.width / small.crop.width &&
    large.height / large.crop.height >= PYRAMID_MARGIN * small.height / small.crop.height;
}

function contains(outer: Rect, inner: Rect): boolean {
  return inner.x >= outer.x && inner.y >= outer.y && inner.x + inner.width <= outer.x + outer.width &&
    inner.y + inner.height <= outer.y + outer.height;
}

/**
 * A scaled output's pixels as the source of the outputs it feeds: they show
 * its crop of the source, which crop.ts maps each fed output's crop into.
 */
export function sourceOf(output: OutputImage): SourceImage {
  const { plan, pixels } = output;
  const source = output.source!;
  return {
    ...source,
    image: pixels!,
    shows: plan.crop,
    factor: Math.min(plan.width / plan.crop.width, plan.height / plan.crop.height),
    scale: 1,
  };
}
