import { assertEquals, assertThrows } from "../../helpers/assert.ts";
import { ImgserveError } from "../../../protocol/error_codes.ts";
import { fillTags } from "../../../src/job/steps/fill_tags.ts";
import { planOutputs } from "../../../src/job/steps/plan_outputs.ts";
import { refuseSharedDestinations } from "../../../src/job/steps/refuse_shared_destinations.ts";
import type { JobContext } from "../../../src/job/context.ts";
import { admission, request, stepWorld } from "./step_context.ts";

function planned(ctx: JobContext, destinations: string[]) {
  const job = admission(request("https://h/a.png", destinations));
  job.header = { format: "png", width: 60, height: 40, orientation: 1, hasAlpha: false };
  planOutputs(ctx, job);
  for (const output of job.outputs) fillTags(ctx, job, output);
  return job;
}

Deno.test("refuseSharedDestinations refuses two outputs naming one resource with 119, naming both", async () => {
  await using world = await stepWorld();
  const { ctx, dir } = world;
  for (const pair of [[`file://${dir}/a.png`, `file://${dir}/./x/../a.png`], ["http://h/b.png", "https://h/b.png"]]) {
    const job = planned(ctx, ["ftp://h/first.png", ...pair]);
    const err = assertThrows(() => refuseSharedDestinations(ctx, job), ImgserveError);
    assertEquals([err.code, err.message.startsWith("outputs[2].dstURL names the same destination as outputs[1]")], [
      119,
      true,
    ], err.message);
  }
  refuseSharedDestinations(ctx, planned(ctx, [`file://${dir}/a.png`, `file://${dir}/b.png`, "http://h/a.png"]));
});
