/**
 * SVG → pixels with resvg, at exactly the plan's size (the pipeline's
 * drawSvg step, in the render process).
 *
 * @module
 */
import { Resvg } from "@resvg/resvg-wasm";
import type { Plan } from "../../protocol/plan.ts";
import { withConcreteFamilies } from "../fonts.ts";
import type { Pixels } from "./pixels.ts";

/** Fonts resvg may use; resvg-wasm has no access to system fonts by itself. */
export interface FontSet {
  buffers: Uint8Array[];
  /** Family names found, to pick sensible generic-family defaults. */
  families: Set<string>;
}

/** The SVG as text with concrete font families: done once, whatever the number of sizes it is drawn at. */
export function svgText(bytes: Uint8Array, fonts: FontSet): string {
  return withConcreteFamilies(new TextDecoder().decode(bytes), fonts);
}

/**
 * Draws the SVG text at the plan's size. resvg takes the size when it
 * builds its tree, so each size is a tree of its own: drawn from the
 * vector, never scaled from another size's pixels.
 */
export function renderSvg(text: string, plan: Plan, fonts: FontSet): Pixels {
  const pixels = draw(sizedSvg(text, plan), fonts);
  if (pixels.width !== plan.width || pixels.height !== plan.height) {
    throw new Error(`rendered ${pixels.width}x${pixels.height}, planned ${plan.width}x${plan.height}`);
  }
  return pixels;
}

/** resvg's drawing of an SVG at the size its root element says; its native objects freed on every path. */
function draw(svg: string, fonts: FontSet): Pixels {
  const pick = (...names: string[]) => names.find((n) => fonts.families.has(n));
  const resvg = new Resvg(svg, {
    fitTo: { mode: "original" },
    font: {
      fontBuffers: fonts.buffers,
      defaultFontFamily: pick("DejaVu Sans", "Liberation Sans", "Noto Sans") ?? [...fonts.families][0],
      sansSerifFamily: pick("DejaVu Sans", "Liberation Sans", "Noto Sans"),
      serifFamily: pick("DejaVu Serif", "Liberation Serif", "Noto Serif"),
      monospaceFamily: pick("DejaVu Sans Mono", "Liberation Mono", "Noto Sans Mono"),
    },
  });
  try {
    const rendered = resvg.render();
    try {
      const data = new Uint8ClampedArray(
        rendered.pixels.buffer as ArrayBuffer,
        rendered.pixels.byteOffset,
        rendered.pixels.byteLength,
      );
      return { data, width: rendered.width, height: rendered.height };
    } finally {
      rendered.free();
    }
  } finally {
    try {
      resvg.free();
    } catch {
      // After a panic in render() this throws Rust's "unsafe aliasing" error, which would hide the panic's own.
    }
  }
}

/**
 * Sets the root element's width and height to the planned size; with the
 * viewBox kept (or added from the intrinsic size), the SVG's own
 * preserveAspectRatio places the drawing, as a browser would in a box of
 * that size.
 */
export function sizedSvg(svg: string, plan: Plan): string {
  const open = /<svg\b[^>]*>/is.exec(svg);
  if (!open) throw new Error("no <svg> element");
  let tag = open[0];
  if (!/\sviewBox\s*=/i.test(tag)) {
    tag = tag.replace(/^<svg\b/i, `<svg viewBox="0 0 ${plan.source.width} ${plan.source.height}"`);
  }
  tag = tag.replace(/\s(width|height)\s*=\s*("[^"]*"|'[^']*')/gi, "");
  tag = tag.replace(/^<svg\b/i, `<svg width="${plan.width}" height="${plan.height}"`);
  return svg.slice(0, open.index) + tag + svg.slice(open.index + open[0].length);
}
