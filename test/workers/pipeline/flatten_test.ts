/** flatten: a JPEG output's pixels on white; the other formats keep their alpha. */
import { flatten } from "../../../workers/pipeline/flatten.ts";
import { assert, assertEquals } from "../../helpers/assert.ts";
import { near, type Rgba } from "../../helpers/images.ts";
import { at, decoded, pixelsOf, planOf, withPixels } from "./image.ts";

const HALF_BLACK: Rgba = [0, 0, 0, 128];

Deno.test("a JPEG output's half-transparent black turns grey and opaque; PNG, WebP and AVIF keep it", () => {
  const jpeg = withPixels(planOf(4, 4, { format: "jpeg" }, true), pixelsOf(4, 4, () => HALF_BLACK));
  flatten(jpeg);
  assert(near(at(jpeg.pixels!, 2, 2), [127, 127, 127, 255], 1), `${at(jpeg.pixels!, 2, 2)}`);
  for (const format of ["png", "webp", "avif"] as const) {
    const kept = withPixels(planOf(4, 4, { format }, true), pixelsOf(4, 4, () => HALF_BLACK));
    flatten(kept);
    assertEquals(at(kept.pixels!, 2, 2), HALF_BLACK, format);
  }
});

Deno.test("pixels that are the decoded source's own are copied before flattening: the next output reads them", () => {
  const plan = planOf(4, 4, { format: "jpeg" }, true);
  const source = decoded(pixelsOf(4, 4, () => HALF_BLACK), plan);
  const output = withPixels(plan, source.image, source);
  flatten(output);
  assert(near(at(output.pixels!, 0, 0), [127, 127, 127, 255], 1), `${at(output.pixels!, 0, 0)}`);
  assertEquals(at(source.image, 0, 0), HALF_BLACK);
});
