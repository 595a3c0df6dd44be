import { assertEquals, assertThrows } from "../../helpers/assert.ts";
import { ImgserveError } from "../../../protocol/error_codes.ts";
import { planOutputs } from "../../../src/job/steps/plan_outputs.ts";
import { admission, request, stepWorld } from "./step_context.ts";

const HEADER = { format: "jpeg", width: 600, height: 400, orientation: 1, hasAlpha: false } as const;

Deno.test("planOutputs plans every output from the header, pending, nothing kept yet", async () => {
  await using world = await stepWorld();
  const job = admission(request("file:///a.jpg", ["file:///out/a.png", "file:///out/b.png"], { width: 300 }));
  job.header = HEADER;
  planOutputs(world.ctx, job);
  assertEquals(
    job.outputs.map(({ index, plan, state, kept }) => [index, plan.width, plan.height, plan.format, state, kept]),
    [
      [0, 300, 200, "jpeg", "pending", false],
      [1, 300, 200, "jpeg", "pending", false],
    ],
  );
});

Deno.test("planOutputs refuses an output over --max-side with 503, naming it", async () => {
  await using world = await stepWorld({ flags: ["--max-side", "1000"] });
  const job = admission(request("file:///a.jpg", ["file:///out/a.png", "file:///out/b.png"], { width: 1200 }));
  job.header = HEADER;
  const err = assertThrows(() => planOutputs(world.ctx, job), ImgserveError);
  assertEquals([err.code, err.message.startsWith("outputs[0]: ")], [503, true]);
});
