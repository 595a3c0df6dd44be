import { assertEquals, assertThrows } from "../helpers/assert.ts";
import { ImgserveError } from "../../src/errors.ts";
import { parseJobRequest } from "../../src/job/request.ts";
import { resizeJob } from "../helpers/jobs.ts";

const good = resizeJob("http://h/a/Ex.png", "ftp://h/thumbs/{$width}-{$basename}.{$ext}", { width: 200, height: 120 });

function code(body: unknown): number {
  return assertThrows(() => parseJobRequest(body, 16384), ImgserveError).code;
}

Deno.test("the seed's example request is valid, with cover as the default mode", () => {
  const job = parseJobRequest(good, 16384);
  assertEquals([job.operationType, job.args.width, job.args.height, job.args.mode], ["resize", 200, 120, "cover"]);
});

Deno.test("each cause of an invalid request has its own code", () => {
  const { args: _, ...noArgs } = good;
  assertEquals(code(noArgs), 101);
  assertEquals(code([1, 2]), 102);
  assertEquals(code({ ...good, args: "x" }), 102);
  assertEquals(code({ ...good, srcURL: 5 }), 102);
  assertEquals(code({ ...good, operationType: "blur" }), 103);
  assertEquals(code({ ...good, args: { width: -1 } }), 104);
  assertEquals(code({ ...good, args: { width: 1.5 } }), 104);
  assertEquals(code({ ...good, args: { width: "NaN" } }), 104);
  assertEquals(code({ ...good, args: {} }), 104);
  assertEquals(code({ ...good, args: { width: 10, widht: 3 } }), 104);
  assertEquals(code({ ...good, args: { width: 10, quality: 101 } }), 104);
  assertEquals(code({ ...good, args: { width: 10, format: "gif" } }), 104);
  assertEquals(code({ ...good, args: { width: 10, format: "tiff" } }), 104);
  assertEquals(code({ ...good, args: { width: 10, lossless: "yes" } }), 104);
  assertEquals(code({ ...good, dstURL: "file:///x/{$size}.png" }), 105);
  assertEquals(code({ ...good, srcURL: "not a url" }), 106);
  assertEquals(code({ ...good, args: { width: 1e9 } }), 503);
});

Deno.test("rasterize needs no size", () => {
  const job = parseJobRequest({ ...good, operationType: "rasterize", args: {} }, 16384);
  assertEquals(job.args.width, undefined);
});
