import { assertEquals } from "../../helpers/assert.ts";
import { deliver } from "../../../src/job/steps/deliver.ts";
import { run } from "../../../src/job/steps/run.ts";
import { takeSource } from "../../../src/job/steps/take_source.ts";
import { assertImage, GREEN, png, thirds } from "../../helpers/images.ts";
import { accepted, firstAttempt, request, stepWorld } from "./step_context.ts";

Deno.test("run makes every pending output from one source in a worker, and deliver puts each in place of its placeholder", async () => {
  await using world = await stepWorld({ pool: true });
  const { ctx, dir } = world;
  await Deno.writeFile(`${dir}/a.png`, await png(thirds(600, 400)));
  const job = await accepted(
    ctx,
    request(`file://${dir}/a.png`, [`file://${dir}/b_{$width}.png`, `file://${dir}/c_{$width}.{$format}`], {
      width: 300,
    }),
  );
  const attempt = firstAttempt(job);
  await takeSource(ctx, attempt);
  run(ctx, attempt);
  assertEquals(
    attempt.outputs.map((output) => output.state),
    ["pending", "pending"],
    "run returns with the work under way",
  );
  await deliver(ctx, attempt);
  assertEquals(attempt.outputs.map((output) => output.state), ["done", "done"]);
  await assertImage(await Deno.readFile(`${dir}/b_300.png`), { format: "png", width: 300, height: 200, centre: GREEN });
  await assertImage(await Deno.readFile(`${dir}/c_300.png`), {
    format: "png",
    width: 300,
    height: 200,
    centre: GREEN,
  });
  assertEquals([...Deno.readDirSync(dir)].map((entry) => entry.name).sort(), ["a.png", "b_300.png", "c_300.png"]);
});
