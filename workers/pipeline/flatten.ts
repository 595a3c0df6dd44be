/**
 * flatten: JPEG has no alpha, so its pixels are composited on white; PNG,
 * WebP and AVIF keep their alpha (the PNG encoder drops the channel when no
 * pixel uses it), GIF as its one transparent index (shared/gif_writer.ts).
 *
 * @module
 */
import { flattenOnWhite } from "../ops/pixels.ts";
import type { OutputImage } from "./step.ts";

/** Flattens a JPEG output's pixels on white in place; never the decoded source's own, which the next output reads. */
export function flatten(output: OutputImage): void {
  if (output.plan.format !== "jpeg") return;
  let pixels = output.pixels!;
  if (pixels.data === output.source?.image.data && output.plan.source.hasAlpha) {
    pixels = output.pixels = { ...pixels, data: pixels.data.slice() };
  }
  flattenOnWhite(pixels);
}
