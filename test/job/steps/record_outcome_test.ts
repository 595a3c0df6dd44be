import { assertEquals } from "../../helpers/assert.ts";
import { ImgserveError } from "../../../protocol/error_codes.ts";
import { STOP } from "../../../src/job/steps/job.ts";
import { recordOutcome } from "../../../src/job/steps/record_outcome.ts";
import { png, thirds } from "../../helpers/images.ts";
import { accepted, firstAttempt, request, type StepWorld, stepWorld } from "./step_context.ts";

/**
 * A job over an earlier file at its destination whose first attempt
 * failed its output with `error`: what recordOutcome returned, and the
 * job's id.
 */
async function failedOnce(world: StepWorld, error: ImgserveError) {
  const { ctx, dir } = world;
  await Deno.writeFile(`${dir}/a.png`, await png(thirds(60, 40)));
  await Deno.writeTextFile(`${dir}/b.png`, "earlier");
  const job = await accepted(ctx, request(`file://${dir}/a.png`, `file://${dir}/b.png`));
  const attempt = firstAttempt(job);
  attempt.failures.set(attempt.outputs[0], error);
  return { outcome: await recordOutcome(ctx, attempt), id: job.id };
}

Deno.test("recordOutcome journals a passing failure for another attempt, and nothing is put back yet", async () => {
  await using world = await stepWorld();
  const { outcome, id } = await failedOnce(world, new ImgserveError("DESTINATION_UNREACHABLE", "refused"));
  assertEquals(outcome, STOP);
  const record = await world.ctx.journal.get(id);
  assertEquals([record?.state, record?.attempts, record?.error?.code, record?.outputs[0].kept], [
    "queued",
    2,
    302,
    true,
  ]);
  assertEquals(await Deno.readTextFile(`${world.dir}/.imgserve-${id}.kept`), "earlier");
});

Deno.test("recordOutcome fails an output for good on a lasting failure and puts the earlier file back", async () => {
  await using world = await stepWorld();
  const { outcome, id } = await failedOnce(world, new ImgserveError("DESTINATION_REFUSED", "403"));
  assertEquals(outcome, undefined);
  const record = await world.ctx.journal.get(id);
  assertEquals([record?.state, record?.error?.code, record?.outputs[0].state], ["failed", 303, "failed"]);
  assertEquals(await Deno.readTextFile(`${world.dir}/b.png`), "earlier");
  assertEquals([...Deno.readDirSync(world.dir)].map((entry) => entry.name).sort(), ["a.png", "b.png"]);
});
