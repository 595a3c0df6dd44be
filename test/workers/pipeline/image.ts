/**
 * What the pixel pipeline's step tests start from: a source or an output
 * as the steps before the one under test would have left it.
 */
import type { Plan } from "../../../protocol/plan.ts";
import type { Pixels } from "../../../workers/ops/pixels.ts";
import type { OutputImage, SourceImage } from "../../../workers/pipeline/mod.ts";
import type { Rgba } from "../../helpers/images.ts";

/** A resize plan of a `width` x `height` source (a PNG unless `format` says) to `to`, the whole source cropped. */
export function planOf(width: number, height: number, to: Partial<Plan> = {}, hasAlpha = false): Plan {
  return {
    op: "resize",
    source: { format: "png", width, height, orientation: 1, hasAlpha },
    width,
    height,
    format: "png",
    quality: 80,
    mode: "fit",
    crop: { x: 0, y: 0, width, height },
    ...to,
  };
}

/** Pixels whose colour is `paint(x, y)`. */
export function pixelsOf(width: number, height: number, paint: (x: number, y: number) => Rgba): Pixels {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) data.set(paint(x, y), (y * width + x) * 4);
  }
  return { data, width, height };
}

/** The colour at x, y. */
export function at(pixels: Pixels, x: number, y: number): Rgba {
  const i = (y * pixels.width + x) * 4;
  return [...pixels.data.subarray(i, i + 4)] as Rgba;
}

/** A source decoded already: `image` at `scale` of the plan's source, upright and in sRGB. */
export function decoded(image: Pixels, plan: Plan, scale = 1): SourceImage {
  return { bytes: new Uint8Array(0), plans: [plan], image, scale, factor: 1, colour: {}, orientation: 1 };
}

/** An output of `source` with its pixels made already. */
export function withPixels(plan: Plan, pixels: Pixels, source?: SourceImage): OutputImage {
  return { plan, pixels, source };
}
