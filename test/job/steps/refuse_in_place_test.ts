import { assertEquals, assertThrows } from "../../helpers/assert.ts";
import { ImgserveError } from "../../../protocol/error_codes.ts";
import { chooseSource } from "../../../src/job/steps/choose_source.ts";
import { fillTags } from "../../../src/job/steps/fill_tags.ts";
import { openSource } from "../../../src/job/steps/open_source.ts";
import { planOutputs } from "../../../src/job/steps/plan_outputs.ts";
import { readSourceHeader } from "../../../src/job/steps/read_source_header.ts";
import { refuseInPlace } from "../../../src/job/steps/refuse_in_place.ts";
import type { JobContext } from "../../../src/job/context.ts";
import { jpeg, thirds } from "../../helpers/images.ts";
import { admission, request, stepWorld } from "./step_context.ts";

/** A job taken as far as refuseInPlace, the source checked for the worker as accept checks it. */
async function upToRefusal(ctx: JobContext, srcURL: string, dstURL: string) {
  const job = admission(request(srcURL, dstURL));
  for (const step of [openSource, readSourceHeader, planOutputs, chooseSource]) await step(ctx, job);
  fillTags(ctx, job, job.outputs[0]);
  return job;
}

Deno.test("refuseInPlace refuses the source's own file under any name with 115, and lets another file pass", async () => {
  await using world = await stepWorld();
  const { ctx, dir } = world;
  await Deno.writeFile(`${dir}/w.jpg`, await jpeg(thirds(60, 40)));
  await Deno.symlink(`${dir}/w.jpg`, `${dir}/link.jpg`);
  await Deno.link(`${dir}/w.jpg`, `${dir}/hard.jpg`);
  for (const dst of ["w.jpg", "./sub/../w.jpg", "link.jpg", "hard.jpg"]) {
    const job = await upToRefusal(ctx, `file://${dir}/w.jpg`, `file://${dir}/${dst}`);
    assertEquals(job.source?.file?.path, `${dir}/w.jpg`, "the worker reads the file itself");
    assertEquals(assertThrows(() => refuseInPlace(ctx, job, job.outputs[0]), ImgserveError).code, 115, dst);
  }
  const other = await upToRefusal(ctx, `file://${dir}/w.jpg`, `file://${dir}/small.jpg`);
  refuseInPlace(ctx, other, other.outputs[0]);
});

Deno.test("refuseInPlace knows one HTTP resource read by GET and written by PUT, whatever the scheme's spelling", async () => {
  await using world = await stepWorld();
  const job = admission(request("http://h/a.png", "https://h:443/a%2Epng"));
  job.header = { format: "png", width: 60, height: 40, orientation: 1, hasAlpha: false };
  planOutputs(world.ctx, job);
  fillTags(world.ctx, job, job.outputs[0]);
  assertEquals(assertThrows(() => refuseInPlace(world.ctx, job, job.outputs[0]), ImgserveError).code, 115);
});
