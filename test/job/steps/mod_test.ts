import { assertEquals, assertThrows } from "../../helpers/assert.ts";
import { ACCEPT, ATTEMPT } from "../../../src/job/steps/mod.ts";
import { eachOutput } from "../../../src/job/steps/job.ts";
import type { JobContext } from "../../../src/job/context.ts";
import { destinationOf, type Output } from "../../../src/job/output.ts";
import { resizeOutput } from "../../helpers/transfer.ts";

Deno.test("a job is accepted, then attempted, in its named steps' order", () => {
  assertEquals(ACCEPT.map((step) => step.name), [
    "checkJournal",
    "checkTargets",
    "openSource",
    "readSourceHeader",
    "planOutputs",
    "chooseSource",
    "fillTags",
    "refuseInPlace",
    "refuseSharedDestinations",
    "placePlaceholder",
    "journalJob",
  ]);
  assertEquals(ATTEMPT.map((step) => step.name), [
    "cleanUp",
    "takeSource",
    "markRunning",
    "run",
    "deliver",
    "recordOutcome",
    "notify",
  ]);
});

Deno.test("an output step runs once per output, in order, under its own name", async () => {
  const seen: string[] = [];
  const fill = (_ctx: JobContext, _job: unknown, out: Output) => void seen.push(out.dstTemplate);
  const step = eachOutput(fill);
  assertEquals(step.name, "fill");
  await step({} as JobContext, { outputs: [resizeOutput("file:///a.png"), resizeOutput("file:///b.png")] });
  assertEquals(seen, ["file:///a.png", "file:///b.png"]);
});

Deno.test("an output's destination asked for before its tags are filled in is a step-order mistake", () => {
  assertThrows(() => destinationOf(resizeOutput("file:///{$width}.png")), Error);
});
