/**
 * scale: the output's region at the plan's size (box shrink, then
 * Lanczos3 in strips), the decoded source left as it was for the next
 * output.
 */
import { scale } from "../../../workers/pipeline/scale.ts";
import { assert, assertEquals } from "../../helpers/assert.ts";
import { BLUE, near, RED } from "../../helpers/images.ts";
import type { OutputImage } from "../../../workers/pipeline/mod.ts";
import { at, decoded, pixelsOf, planOf } from "./image.ts";

const halves = (x: number) => (x < 200 ? RED : BLUE);

Deno.test("a region is shrunk to the plan's size, its colours where they were, the source untouched", () => {
  const plan = planOf(400, 300, { width: 40, height: 30 });
  const source = decoded(pixelsOf(400, 300, halves), plan);
  const before = source.image.data.slice();
  const output: OutputImage = { plan, source, region: plan.crop };
  scale(output);
  const pixels = output.pixels!;
  assertEquals([pixels.width, pixels.height], [40, 30]);
  assert(near(at(pixels, 5, 15), RED, 4) && near(at(pixels, 34, 15), BLUE, 4), `${at(pixels, 5, 15)}`);
  assertEquals(source.image.data, before);
});

Deno.test("only the region is read: a blue region of a half-red source comes out blue", () => {
  const plan = planOf(400, 300, { width: 25, height: 20 });
  const output: OutputImage = {
    plan,
    source: decoded(pixelsOf(400, 300, halves), plan),
    region: { x: 250, y: 0, width: 150, height: 120 },
  };
  scale(output);
  assertEquals([output.pixels!.width, output.pixels!.height], [25, 20]);
  assert(near(at(output.pixels!, 0, 0), BLUE, 2) && near(at(output.pixels!, 24, 19), BLUE, 2), "all blue");
});

Deno.test("a region already the plan's size is copied out; the whole image at its size is the source's own", () => {
  const plan = planOf(400, 300, { width: 20, height: 10 });
  const source = decoded(pixelsOf(400, 300, halves), plan);
  const output: OutputImage = { plan, source, region: { x: 190, y: 5, width: 20, height: 10 } };
  scale(output);
  assert(output.pixels!.data !== source.image.data, "a copy");
  assertEquals([at(output.pixels!, 9, 0), at(output.pixels!, 10, 9)], [RED, BLUE]);
  const whole = planOf(400, 300);
  const same: OutputImage = { plan: whole, source, region: whole.crop };
  scale(same);
  assert(same.pixels!.data === source.image.data, "nothing to do, nothing copied");
});
