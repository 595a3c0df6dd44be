import { assertEquals } from "../../helpers/assert.ts";
import { fillTags } from "../../../src/job/steps/fill_tags.ts";
import { placePlaceholder } from "../../../src/job/steps/place_placeholder.ts";
import { planOutputs } from "../../../src/job/steps/plan_outputs.ts";
import { withdrawPlaceholder } from "../../../src/job/settle.ts";
import type { JobContext } from "../../../src/job/context.ts";
import { assertImage, PLACEHOLDER_GREY } from "../../helpers/images.ts";
import { admission, request, stepWorld } from "./step_context.ts";

function planned(ctx: JobContext, dstURL: string) {
  const job = admission(request("https://h/a.png", dstURL, { width: 30, height: 20 }));
  job.header = { format: "png", width: 60, height: 40, orientation: 1, hasAlpha: false };
  planOutputs(ctx, job);
  fillTags(ctx, job, job.outputs[0]);
  return job;
}

Deno.test("placePlaceholder puts the result's size and format at the destination; a refusal takes it away", async () => {
  await using world = await stepWorld();
  const { ctx, dir } = world;
  const job = planned(ctx, `file://${dir}/out/a.png`);
  const [output] = job.outputs;
  await placePlaceholder(ctx, job, output);
  const placed = await Deno.readFile(`${dir}/out/a.png`);
  await assertImage(placed, { format: "png", width: 30, height: 20, centre: PLACEHOLDER_GREY });
  assertEquals([output.kept, output.placeholder?.size], [false, placed.byteLength]);
  await withdrawPlaceholder(ctx, job.id, output);
  assertEquals([...Deno.readDirSync(`${dir}/out`)], []);
});

Deno.test("placePlaceholder keeps the file it replaces aside, and a refusal puts it back byte for byte", async () => {
  await using world = await stepWorld();
  const { ctx, dir } = world;
  const earlier = new TextEncoder().encode("the file that was there");
  await Deno.writeFile(`${dir}/a.png`, earlier);
  const job = planned(ctx, `file://${dir}/a.png`);
  const [output] = job.outputs;
  await placePlaceholder(ctx, job, output);
  assertEquals(output.kept, true);
  assertEquals(await Deno.readFile(`${dir}/.imgserve-${job.id}.kept`), earlier);
  await withdrawPlaceholder(ctx, job.id, output);
  assertEquals(await Deno.readFile(`${dir}/a.png`), earlier);
  assertEquals([...Deno.readDirSync(dir)].map((entry) => entry.name), ["a.png"]);
});

Deno.test("placePlaceholder makes a size's placeholder once: a second job of that size uploads the very same bytes", async () => {
  await using world = await stepWorld();
  const { ctx, dir } = world;
  const uploaded: Uint8Array[] = [];
  const write = ctx.transports.write.bind(ctx.transports);
  ctx.transports.write = (url, bytes, options) => {
    uploaded.push(bytes);
    return write(url, bytes, options);
  };
  for (const name of ["a", "b"]) {
    const job = planned(ctx, `file://${dir}/out/${name}.png`);
    await placePlaceholder(ctx, job, job.outputs[0]);
  }
  assertEquals(uploaded.length, 2);
  assertEquals(uploaded[0] === uploaded[1], true);
  assertEquals(await Deno.readFile(`${dir}/out/b.png`), await Deno.readFile(`${dir}/out/a.png`));
});
