import { assertEquals } from "../../helpers/assert.ts";
import { fillTags } from "../../../src/job/steps/fill_tags.ts";
import { planOutputs } from "../../../src/job/steps/plan_outputs.ts";
import { admission, request, stepWorld } from "./step_context.ts";

Deno.test("fillTags fills the destination's tags from the plan and the source's name", async () => {
  await using world = await stepWorld();
  const template = "file:///out/{$basename}_{$width}x{$height}.{$format}";
  const job = admission(request("https://h/photos/sea.jpeg", template, { width: 300, format: "webp" }));
  job.header = { format: "jpeg", width: 600, height: 400, orientation: 1, hasAlpha: false };
  planOutputs(world.ctx, job);
  fillTags(world.ctx, job, job.outputs[0]);
  assertEquals(job.outputs[0].dst, "file:///out/sea_300x200.webp");
  assertEquals(job.outputs[0].dstURL?.pathname, "/out/sea_300x200.webp");
});
