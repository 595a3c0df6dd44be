/**
 * drawSvg: an SVG output's pixels, drawn by resvg at the plan's size from
 * the vector (never scaled from another size's pixels), in the render
 * process (see ops/rasterize.ts).
 *
 * @module
 */
import { renderSvg } from "../ops/rasterize.ts";
import type { OutputImage } from "./step.ts";

/** Sets the output's pixels: its SVG drawn at plan.width x plan.height. */
export function drawSvg(output: OutputImage): void {
  const { text, fonts } = output.svg!;
  output.pixels = renderSvg(text, output.plan, fonts);
}
