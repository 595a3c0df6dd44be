/** crop: the plan's rectangle found in the decoded pixels, whatever the decode's scale. */
import { crop } from "../../../workers/pipeline/crop.ts";
import { assertEquals } from "../../helpers/assert.ts";
import { RED } from "../../helpers/images.ts";
import type { OutputImage } from "../../../workers/pipeline/mod.ts";
import { decoded, pixelsOf, planOf } from "./image.ts";

Deno.test("the crop of a 640x400 source maps onto its 1/4 decode", () => {
  const plan = planOf(640, 400, { width: 50, height: 30, crop: { x: 100, y: 40, width: 400, height: 300 } });
  const output: OutputImage = { plan, source: decoded(pixelsOf(160, 100, () => RED), plan, 0.25) };
  crop(output);
  assertEquals(output.region, { x: 25, y: 10, width: 100, height: 75 });
});

Deno.test("a crop at the edge keeps at least one pixel inside the decoded image", () => {
  const plan = planOf(640, 400, { width: 1, height: 1, crop: { x: 638, y: 399, width: 2, height: 1 } });
  const output: OutputImage = { plan, source: decoded(pixelsOf(80, 50, () => RED), plan, 0.125) };
  crop(output);
  assertEquals(output.region, { x: 79, y: 49, width: 1, height: 1 });
});

Deno.test("at full scale the crop is the plan's own", () => {
  const plan = planOf(64, 48, { crop: { x: 4, y: 2, width: 40, height: 30 } });
  const output: OutputImage = { plan, source: decoded(pixelsOf(64, 48, () => RED), plan) };
  crop(output);
  assertEquals(output.region, plan.crop);
});
