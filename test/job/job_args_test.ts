import { assertEquals, assertThrows } from "../helpers/assert.ts";
import { ImgserveError } from "../../protocol/error_codes.ts";
import { parseJobArgs } from "../../src/job/job_args.ts";

function code(args: Record<string, unknown>, op: "resize" | "rasterize" = "resize"): number {
  return assertThrows(() => parseJobArgs(args, op, 16384), ImgserveError).code;
}

Deno.test("args: jpg is jpeg, cover and warning are the defaults, and an absent page or frame stays absent", () => {
  assertEquals(parseJobArgs({ width: 200, format: "jpg" }, "resize", 16384), {
    width: 200,
    height: undefined,
    mode: "cover",
    format: "jpeg",
    quality: undefined,
    lossless: false,
    fieldName: undefined,
    failOn: "warning",
  });
});

Deno.test("args: an unknown key, a bad value or a resize without a size is 104, a side over --max-side 503", () => {
  assertEquals(code({ width: 10, colour: "red" }), 104);
  assertEquals(code({ width: 0 }), 104);
  assertEquals(code({ width: 10, quality: 101 }), 104);
  assertEquals(code({ width: 10, mode: "zoom" }), 104);
  assertEquals(code({ width: 10, frame: 2, animated: true }), 104);
  assertEquals(code({ width: 10, page: -1 }), 104);
  assertEquals(code({}), 104);
  assertEquals(code({ width: 16385 }), 503);
  assertEquals(parseJobArgs({}, "rasterize", 16384).width, undefined);
});
