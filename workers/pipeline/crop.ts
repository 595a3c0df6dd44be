/**
 * crop: the plan's rectangle (in source pixels, as displayed) found in the
 * decoded pixels, which a reduced decode made smaller than the source.
 * Nothing is copied: scale reads the rectangle in place.
 *
 * @module
 */
import type { OutputImage } from "./step.ts";

/** Sets the output's region: its plan's crop in the decoded pixels' coordinates, at least one pixel. */
export function crop(output: OutputImage): void {
  const { image, scale: s } = output.source!;
  const rect = output.plan.crop;
  if (s === 1) {
    output.region = rect;
    return;
  }
  const x = Math.min(image.width - 1, Math.round(rect.x * s));
  const y = Math.min(image.height - 1, Math.round(rect.y * s));
  const width = Math.max(1, Math.min(image.width - x, Math.round((rect.x + rect.width) * s) - x));
  const height = Math.max(1, Math.min(image.height - y, Math.round((rect.y + rect.height) * s) - y));
  output.region = { x, y, width, height };
}
