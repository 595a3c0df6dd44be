/**
 * The pipeline's lists run in order: a source decoded once, each output
 * made from it by the list's tail, every stage timed.
 */
import { DECODE, decodeSource, ENCODE, makeOutput, RESIZE } from "../../../workers/pipeline/mod.ts";
import { SVG_OUTPUT } from "../../../workers/pipeline/svg.ts";
import { StageTimer } from "../../../workers/ops/timer.ts";
import { assert, assertEquals } from "../../helpers/assert.ts";
import { codecs, decode } from "../../helpers/images.ts";
import { planFor } from "../reference.ts";

/** 2560x1600, baseline. */
const PHOTO = "/usr/share/backgrounds/mate/nature/LadyBird.jpg";

Deno.test("the lists name the steps in the order they run", () => {
  const names = (steps: readonly (readonly [string, { name: string }])[]) => steps.map(([, step]) => step.name);
  assertEquals(names(DECODE), ["decodeAtScale", "toSrgb", "orient"]);
  assertEquals(names(RESIZE), ["crop", "scale"]);
  assertEquals(names(ENCODE), ["flatten", "encode"]);
  assertEquals(names(SVG_OUTPUT), ["drawSvg", "flatten", "encode"]);
});

Deno.test("two outputs of one decode: each at its size, the source intact, the stages timed where they ran", async () => {
  await codecs();
  const bytes = await Deno.readFile(PHOTO);
  const plans = [planFor(bytes, 400, 250, "fit"), { ...planFor(bytes, 200, 120, "cover"), format: "webp" as const }];
  const first = new StageTimer();
  const source = await decodeSource(bytes, plans, first);
  const decoded = source.image.data.slice();
  for (const [i, plan] of plans.entries()) {
    const timer = i === 0 ? first : new StageTimer();
    const image = await decode(new Uint8Array(await makeOutput(source, plan, timer)));
    assertEquals([image.width, image.height], [plan.width, plan.height]);
    assertEquals(Object.keys(timer.times), i === 0 ? ["decode", "resize", "encode"] : ["resize", "encode"]);
  }
  assert(first.times.decode > 0, "the decode is timed");
  assertEquals(source.image.data, decoded, "the decoded source is the same for every output");
});
