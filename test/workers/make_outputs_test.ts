/**
 * makeOutputs through the pyramid: a smaller output made from a larger
 * output's scaled pixels, before that one is encoded, handed off in its
 * own turn; where the rule says no, from the decoded source as before.
 */
import { readHeader } from "../../src/image/header.ts";
import { planJob } from "../../src/job/planner.ts";
import type { JobArgs } from "../../src/job/job_args.ts";
import type { Plan } from "../../protocol/plan.ts";
import type { MadeOutput } from "../../protocol/work.ts";
import { makeOutputs } from "../../workers/make_outputs.ts";
import { decodeSource, resizeOutput, resizePixels } from "../../workers/pipeline/mod.ts";
import { sourceOf } from "../../workers/pipeline/pyramid.ts";
import type { Pixels } from "../../workers/ops/pixels.ts";
import { StageTimer } from "../../workers/ops/timer.ts";
import type { Renderer } from "../../workers/renderer.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import { codecs, decode, painted, png, RED } from "../helpers/images.ts";

/** 2560x1600, baseline. */
const PHOTO = "/usr/share/backgrounds/mate/nature/LadyBird.jpg";

function plansFor(bytes: Uint8Array, args: Partial<JobArgs>[]): Plan[] {
  const header = readHeader(bytes, true);
  return args.map((a) => planJob({ operationType: "resize", args: { mode: "fit", ...a } }, header, 16384));
}

/** Runs makeOutputs as a worker does; the outputs' decoded pixels and their stage times, in the order handed. */
async function run(bytes: Uint8Array, plans: Plan[]): Promise<{ handed: number[]; images: ImageData[] }> {
  await codecs();
  const context = { timer: new StageTimer(), stopped: () => false, renderer: {} as Renderer, rendering: () => {} };
  const made: [number, MadeOutput][] = [];
  await makeOutputs(bytes, plans.map((plan) => ({ plan })), context, (i, output) => made.push([i, output]));
  const images: ImageData[] = [];
  for (const [i, output] of made) {
    if (!output.ok) throw new Error(`output ${i} failed: ${output.message}`);
    images[i] = await decode(new Uint8Array(output.bytes));
  }
  return { handed: made.map(([i]) => i), images };
}

/** The pixels of `plan` made from those of `larger`, as the pyramid makes them, and as the direct path does. */
async function bothWays(bytes: Uint8Array, plans: Plan[], larger: Plan, plan: Plan) {
  const source = await decodeSource(bytes, plans, new StageTimer());
  const fed = await resizeOutput(
    sourceOf(await resizeOutput(source, larger, new StageTimer())),
    plan,
    new StageTimer(),
  );
  const direct = await resizeOutput(source, plan, new StageTimer());
  return { pyramid: fed.pixels!, direct: direct.pixels!, alone: await resizePixels(bytes, plan, new StageTimer()) };
}

/** PSNR over the colour channels, dB. */
function psnr(a: Pixels | ImageData, b: Pixels | ImageData): number {
  let sum = 0;
  for (let i = 0; i < a.data.length; i++) if (i % 4 !== 3) sum += (a.data[i] - b.data[i]) ** 2;
  return 10 * Math.log10(255 ** 2 / (sum / (a.data.length * 3 / 4)));
}

Deno.test("a three-output job's smaller outputs are made from the largest's pixels, in any order, near the direct path", async () => {
  const bytes = await Deno.readFile(PHOTO);
  const [large, card, thumb] = plansFor(bytes, [
    { width: 1280 },
    { width: 400, height: 300, mode: "cover", format: "png" },
    { width: 200, height: 120, mode: "cover", format: "png" },
  ]);
  for (const plans of [[large, card, thumb], [thumb, large, card]]) {
    const { handed, images } = await run(bytes, plans);
    assertEquals(handed, [0, 1, 2], "handed in the order listed");
    for (const [i, plan] of plans.entries()) {
      assertEquals([images[i].width, images[i].height], [plan.width, plan.height]);
      if (plan === large) continue;
      const { pyramid, direct, alone } = await bothWays(bytes, plans, large, plan);
      // PNG is lossless: the output is the pyramid's pixels to the byte, and they are not the direct path's.
      assertEquals(images[i].data, pyramid.data, `output ${i} (${plan.width}x${plan.height}) is made from the 1280's`);
      assert(psnr(direct, pyramid) > 0 && psnr(direct, pyramid) < 99, "the two paths differ");
      const quality = psnr(pyramid, alone);
      assert(quality >= 40, `${plan.width}x${plan.height}: ${quality.toFixed(1)} dB against the output made alone`);
    }
  }
});

Deno.test("a transparent source's outputs are made from the decoded source: a PNG keeps alpha the JPEG before it lost", async () => {
  // Left quarter transparent, the rest red.
  const bytes = await png(painted(800, 600, (x) => x < 200 ? [0, 0, 0, 0] : RED));
  const plans = plansFor(bytes, [
    { width: 400, format: "jpeg" },
    { width: 100, height: 75, format: "png" },
  ]);
  const { images } = await run(bytes, plans);
  const [jpeg, small] = images;
  assertEquals([...jpeg.data.subarray(0, 3)].map((v) => v > 245), [true, true, true], "the JPEG is white there");
  assertEquals(small.data[3], 0, "the PNG is transparent there");
  assertEquals(small.data, (await resizePixels(bytes, plans[1], new StageTimer())).data, "exactly as made alone");
});

Deno.test("an output the pyramid cannot make (its crop outside the larger's) is made from the decoded source", async () => {
  const bytes = await Deno.readFile(PHOTO);
  const plans = plansFor(bytes, [
    { width: 1000, height: 1000, mode: "cover", format: "png" },
    { width: 256, height: 160, format: "png" },
  ]);
  const { images } = await run(bytes, plans);
  const { direct } = await bothWays(bytes, plans, plans[0], plans[1]);
  assertEquals(images[1].data, direct.data);
});
