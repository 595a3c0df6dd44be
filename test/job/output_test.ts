import { assertEquals } from "../helpers/assert.ts";
import { ImgserveError } from "../../protocol/error_codes.ts";
import type { OutputRecord, OutputState } from "../../src/journal/mod.ts";
import { jobError, outputKey } from "../../src/job/output.ts";
import type { Plan } from "../../protocol/plan.ts";

function output(state: OutputState, code?: number): OutputRecord {
  return {
    dstURL: "file:///o/x.png",
    width: 1,
    height: 1,
    plan: {} as Plan,
    state,
    ...(code ? { error: { code, message: `failed with ${code}` } } : {}),
  };
}

Deno.test("the first output's files carry the job id, the others the id and their index", () => {
  assertEquals([outputKey("j", 0), outputKey("j", 1), outputKey("j", 15)], ["j", "j.1", "j.15"]);
});

Deno.test("a job is failed with 120 when some outputs are done, else with the attempt's or first output's error", () => {
  assertEquals(jobError([output("done"), output("done")], true), undefined);
  assertEquals(jobError([output("done"), output("failed", 303), output("failed", 305)], true), {
    code: 120,
    message: "2 of 3 outputs failed (the others are done): outputs[1]: failed with 303; outputs[2]: failed with 305",
  });
  assertEquals(jobError([output("failed", 303), output("failed", 305)], true), {
    code: 303,
    message: "outputs[0]: failed with 303",
  });
  const whole = new ImgserveError("SOURCE_NOT_FOUND", "gone");
  assertEquals(jobError([output("failed", 202), output("failed", 202)], true, whole), { code: 202, message: "gone" });
  assertEquals(jobError([output("failed", 303)], false), { code: 303, message: "failed with 303" });
});
