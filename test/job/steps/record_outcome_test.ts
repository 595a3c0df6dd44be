import { assertEquals } from "../../helpers/assert.ts";
import { ImgserveError } from "../../../src/errors.ts";
import { STOP } from "../../../src/job/steps/job.ts";
import { recordOutcome } from "../../../src/job/steps/record_outcome.ts";
import { png, thirds } from "../../helpers/images.ts";
import { accepted, firstAttempt, request, stepWorld } from "./step_context.ts";

Deno.test("recordOutcome journals a passing failure for another attempt, and nothing is put back yet", async () => {
  await using world = await stepWorld();
  const { ctx, dir } = world;
  await Deno.writeFile(`${dir}/a.png`, await png(thirds(60, 40)));
  await Deno.writeTextFile(`${dir}/b.png`, "earlier");
  const job = await accepted(ctx, request(`file://${dir}/a.png`, `file://${dir}/b.png`));
  const attempt = firstAttempt(job);
  attempt.failures.set(attempt.outputs[0], new ImgserveError("DESTINATION_UNREACHABLE", "the connection was refused"));
  assertEquals(await recordOutcome(ctx, attempt), STOP);
  const record = await ctx.journal.get(job.id);
  assertEquals([record?.state, record?.attempts, record?.error?.code, record?.outputs[0].kept], [
    "queued",
    2,
    302,
    true,
  ]);
  assertEquals(await Deno.readTextFile(`${dir}/.imgserve-${job.id}.kept`), "earlier");
});

Deno.test("recordOutcome fails an output for good on a lasting failure and puts the earlier file back", async () => {
  await using world = await stepWorld();
  const { ctx, dir } = world;
  await Deno.writeFile(`${dir}/a.png`, await png(thirds(60, 40)));
  await Deno.writeTextFile(`${dir}/b.png`, "earlier");
  const job = await accepted(ctx, request(`file://${dir}/a.png`, `file://${dir}/b.png`));
  const attempt = firstAttempt(job);
  attempt.failures.set(attempt.outputs[0], new ImgserveError("DESTINATION_REFUSED", "403"));
  assertEquals(await recordOutcome(ctx, attempt), undefined);
  const record = await ctx.journal.get(job.id);
  assertEquals([record?.state, record?.error?.code, record?.outputs[0].state], ["failed", 303, "failed"]);
  assertEquals(await Deno.readTextFile(`${dir}/b.png`), "earlier");
  assertEquals([...Deno.readDirSync(dir)].map((entry) => entry.name).sort(), ["a.png", "b.png"]);
});
