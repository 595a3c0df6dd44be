import { assertEquals } from "../../helpers/assert.ts";
import { cleanUp } from "../../../src/job/steps/clean_up.ts";
import { accepted, firstAttempt, request, stepWorld } from "./step_context.ts";
import { png, thirds } from "../../helpers/images.ts";

Deno.test("cleanUp removes the temporary files an earlier attempt left beside each destination, nothing else", async () => {
  await using world = await stepWorld();
  const { ctx, dir } = world;
  await Deno.writeFile(`${dir}/a.png`, await png(thirds(60, 40)));
  const job = await accepted(ctx, request(`file://${dir}/a.png`, [`file://${dir}/b.png`, `file://${dir}/c.png`]));
  const leftovers = [`.imgserve-${job.id}.result.tmp`, `.imgserve-${job.id}.1.placeholder.tmp`];
  for (const name of [...leftovers, ".imgserve-someone-else.result.tmp"]) {
    await Deno.writeTextFile(`${dir}/${name}`, "x");
  }
  const names = () => [...Deno.readDirSync(dir)].map((entry) => entry.name).sort();
  const before = names();
  await cleanUp(ctx, firstAttempt(job));
  assertEquals(names(), before, "a fresh attempt leaves everything");
  await cleanUp(ctx, { ...firstAttempt(job), fresh: false });
  assertEquals(names(), before.filter((name) => !leftovers.includes(name)));
});
