/**
 * The pyramid's rule: which output is made from which larger output's
 * scaled pixels, and which are made from the decoded source.
 */
import { feedersOf, PYRAMID_MARGIN } from "../../../workers/pipeline/pyramid.ts";
import { crop } from "../../../workers/pipeline/crop.ts";
import { scale } from "../../../workers/pipeline/scale.ts";
import { sourceOf } from "../../../workers/pipeline/pyramid.ts";
import type { OutputImage } from "../../../workers/pipeline/mod.ts";
import type { Plan } from "../../../protocol/plan.ts";
import { assert, assertEquals } from "../../helpers/assert.ts";
import { BLUE, near, RED } from "../../helpers/images.ts";
import { at, decoded, pixelsOf, planOf } from "./image.ts";

const WHOLE = { x: 0, y: 0, width: 2560, height: 1600 };
/** The three outputs of a 2560x1600 photo: 1280 fit, 400x300 cover, 200x120 cover. */
const LARGE = planOf(2560, 1600, { width: 1280, height: 800, format: "jpeg" });
const CARD = planOf(2560, 1600, {
  width: 400,
  height: 300,
  mode: "cover",
  crop: { x: 213, y: 0, width: 2133, height: 1600 },
});
const THUMB = planOf(2560, 1600, {
  width: 200,
  height: 120,
  mode: "cover",
  crop: { x: 0, y: 32, width: 2560, height: 1536 },
});
const FULL = pixelsOf(2560, 1600, () => RED);

Deno.test("the smaller outputs are made from the largest's pixels, whatever the order they are listed in", () => {
  assertEquals(feedersOf([LARGE, CARD, THUMB], FULL), [undefined, 0, 0]);
  assertEquals(feedersOf([THUMB, CARD, LARGE], FULL), [2, 2, undefined]);
});

Deno.test("a crop outside the larger output's crop is made from the decoded source", () => {
  const left = planOf(2560, 1600, { width: 1000, height: 1000, crop: { x: 0, y: 0, width: 1600, height: 1600 } });
  const whole = planOf(2560, 1600, { width: 256, height: 160, crop: WHOLE });
  assertEquals(feedersOf([left, whole], FULL), [undefined, undefined]);
});

Deno.test(`a larger output less than ${PYRAMID_MARGIN} times as dense in one axis feeds nothing`, () => {
  // 4x across, but 1.5x down.
  const wide = planOf(2560, 1600, { width: 1280, height: 300, mode: "stretch", crop: WHOLE });
  const small = planOf(2560, 1600, { width: 320, height: 200, mode: "stretch", crop: WHOLE });
  assertEquals(feedersOf([wide, small], FULL), [undefined, undefined]);
});

Deno.test("an output as large as the decoded pixels, or an enlargement, feeds nothing: it would save nothing", () => {
  const same = planOf(2560, 1600, { width: 2560, height: 1600, crop: WHOLE });
  const larger = planOf(2560, 1600, { width: 5120, height: 3200, crop: WHOLE });
  assertEquals(feedersOf([same, THUMB], FULL), [undefined, undefined]);
  assertEquals(feedersOf([larger, THUMB], FULL), [undefined, undefined]);
  // Decoded at a quarter, the 1280 output is an enlargement of the pixels.
  assertEquals(feedersOf([LARGE, THUMB], pixelsOf(640, 400, () => RED)), [undefined, undefined]);
});

Deno.test("a source with transparent pixels makes every output from the decoded source; an opaque one does not", () => {
  const withAlpha = (plan: Plan) => ({ ...plan, source: { ...plan.source, hasAlpha: true } });
  const plans = [LARGE, CARD, THUMB].map(withAlpha);
  const clear = pixelsOf(2560, 1600, (x) => x < 10 ? [0, 0, 0, 0] : RED);
  assertEquals(feedersOf(plans, clear), [undefined, undefined, undefined]);
  assertEquals(feedersOf(plans, FULL), [undefined, 0, 0]);
});

Deno.test("a fed output's crop is found to the fraction of a pixel in the larger output's pixels, and read there", () => {
  // The larger output: the right half of a red | blue source at a quarter of its size.
  const large = planOf(400, 200, { width: 100, height: 100, crop: { x: 200, y: 0, width: 200, height: 200 } });
  const larger: OutputImage = { plan: large, pixels: pixelsOf(100, 100, (x) => x < 10 ? RED : BLUE) };
  const source = decoded(pixelsOf(400, 200, (x) => x < 220 ? RED : BLUE), large);
  const small = planOf(400, 200, { width: 30, height: 20, crop: { x: 221, y: 10, width: 150, height: 100 } });
  const output: OutputImage = { plan: small, source: sourceOf({ ...larger, source }) };
  crop(output);
  assertEquals(output.region, { x: 10.5, y: 5, width: 75, height: 50 });
  scale(output);
  assertEquals([output.pixels!.width, output.pixels!.height], [30, 20]);
  assert(near(at(output.pixels!, 0, 0), BLUE, 2) && near(at(output.pixels!, 29, 19), BLUE, 2), "all blue");
});
