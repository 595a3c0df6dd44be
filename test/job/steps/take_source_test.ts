import { assertEquals, assertRejects } from "../../helpers/assert.ts";
import { ImgserveError } from "../../../protocol/error_codes.ts";
import { takeSource } from "../../../src/job/steps/take_source.ts";
import type { LocalSource } from "../../../protocol/work.ts";
import { png, thirds } from "../../helpers/images.ts";
import { accepted, firstAttempt, request, stepWorld } from "./step_context.ts";

Deno.test("takeSource gives a resumed job's local source as the checked file, and refuses its own placeholder with 214", async () => {
  await using world = await stepWorld();
  const { ctx, dir } = world;
  await Deno.writeFile(`${dir}/a.png`, await png(thirds(60, 40)));
  const job = await accepted(ctx, request(`file://${dir}/a.png`, `file://${dir}/b.png`));
  const resumed = { ...firstAttempt(job), fresh: false, source: undefined };
  await takeSource(ctx, resumed);
  assertEquals((resumed.input as LocalSource).path, `${dir}/a.png`);
  // The source replaced by this job's placeholder, under a name the in-place check could not see through.
  await Deno.copyFile(`${dir}/b.png`, `${dir}/a.png`);
  const again = { ...firstAttempt(job), fresh: false, source: undefined };
  assertEquals((await assertRejects(() => takeSource(ctx, again), ImgserveError)).code, 214);
});
