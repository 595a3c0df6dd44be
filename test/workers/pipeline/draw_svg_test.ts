/** drawSvg: an SVG output's pixels drawn from the vector at the plan's size. */
import { initWasm } from "@resvg/resvg-wasm";
import { drawSvg } from "../../../workers/pipeline/draw_svg.ts";
import { loadFonts } from "../../../workers/fonts.ts";
import type { OutputImage } from "../../../workers/pipeline/mod.ts";
import { assertEquals, assertThrows } from "../../helpers/assert.ts";
import { BLUE, RED } from "../../helpers/images.ts";
import { at, planOf } from "./image.ts";

const SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">
  <rect width="5" height="10" fill="red"/><rect x="5" width="5" height="10" fill="blue"/></svg>`;

const fonts = (async () => {
  await initWasm(await Deno.readFile(new URL(import.meta.resolve("@resvg/resvg-wasm/index_bg.wasm"))));
  return await loadFonts([]);
})();

async function svgOutput(side: number, text = SVG): Promise<OutputImage> {
  const plan = planOf(10, 10, { op: "rasterize", width: side, height: side }, true);
  return { plan: { ...plan, source: { ...plan.source, format: "svg" } }, svg: { text, fonts: await fonts } };
}

Deno.test("an SVG is drawn at each plan's size, its halves where the vector puts them", async () => {
  for (const side of [8, 200]) {
    const output = await svgOutput(side);
    drawSvg(output);
    assertEquals([output.pixels!.width, output.pixels!.height], [side, side]);
    assertEquals([at(output.pixels!, 0, side - 1), at(output.pixels!, side - 1, 0)], [RED, BLUE]);
  }
});

Deno.test("an SVG that cannot be drawn leaves its output without pixels", async () => {
  const output = await svgOutput(8, "<html></html>");
  assertThrows(() => drawSvg(output), Error);
  assertEquals(output.pixels, undefined);
});
