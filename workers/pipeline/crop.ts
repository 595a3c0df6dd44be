/**
 * crop: the plan's rectangle (in source pixels, as displayed) found in the
 * decoded pixels, which a reduced decode made smaller than the source, or
 * in a larger output's scaled pixels, which show only its own crop
 * (pyramid.ts). Nothing is copied: scale reads the rectangle in place.
 *
 * @module
 */
import type { OutputImage } from "./step.ts";

/** Sets the output's region: its plan's crop in the pixels' coordinates, at least one pixel of the decoded ones. */
export function crop(output: OutputImage): void {
  const { image, scale: s, shows } = output.source!;
  const rect = output.plan.crop;
  if (shows) {
    // Exact, to the fraction of a pixel: these pixels are already a few times the output's size, so a rounded
    // edge would shift it by a visible part of a pixel (scale.ts reads fractional regions of them).
    const sx = image.width / shows.width, sy = image.height / shows.height;
    output.region = {
      x: (rect.x - shows.x) * sx,
      y: (rect.y - shows.y) * sy,
      width: rect.width * sx,
      height: rect.height * sy,
    };
    return;
  }
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
