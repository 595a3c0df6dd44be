/**
 * An SVG's output as a list of named steps, run by the render process
 * once per output (render_process.ts): drawn at the plan's size, then
 * encoded as a decoded source's outputs are (mod.ts's `ENCODE`). Kept
 * apart from mod.ts so the render process loads no decoder.
 *
 * @module
 */
import { drawSvg } from "./draw_svg.ts";
import { encode } from "./encode.ts";
import { flatten } from "./flatten.ts";
import type { OutputImage, Steps } from "./step.ts";

/** Once per output of an SVG. */
export const SVG_OUTPUT: Steps<OutputImage> = [
  ["render", drawSvg],
  ["encode", flatten],
  ["encode", encode],
];
