import { assert, assertEquals, assertThrows } from "../helpers/assert.ts";
import { ImgserveError } from "../../protocol/error_codes.ts";
import { parseJobRequest } from "../../src/job/request.ts";
import { resizeJob } from "../helpers/jobs.ts";

const good = resizeJob("http://h/a/Ex.png", "ftp://h/thumbs/{$width}-{$basename}.{$ext}", { width: 200, height: 120 });

function code(body: unknown): number {
  return assertThrows(() => parseJobRequest(body, 16384), ImgserveError).code;
}

Deno.test("the seed's example request is valid, with cover as the default mode", () => {
  const job = parseJobRequest(good, 16384);
  const { args } = job.outputs[0];
  assertEquals([job.operationType, args.width, args.height, args.mode, job.multi], [
    "resize",
    200,
    120,
    "cover",
    false,
  ]);
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
  assertEquals(code({ ...good, args: { width: 10, format: "bmp" } }), 104);
  assertEquals(code({ ...good, args: { width: 10, frame: -1 } }), 104);
  assertEquals(code({ ...good, args: { width: 10, frame: 1.5 } }), 104);
  assertEquals(code({ ...good, args: { width: 10, frame: "2" } }), 104);
  assertEquals(code({ ...good, args: { width: 10, animated: "no" } }), 104);
  assertEquals(code({ ...good, args: { width: 10, animated: true, frame: 2 } }), 104);
  assertEquals(code({ ...good, args: { width: 10, format: "tiff" } }), 104);
  assertEquals(code({ ...good, args: { width: 10, lossless: "yes" } }), 104);
  assertEquals(code({ ...good, dstURL: "file:///x/{$size}.png" }), 105);
  assertEquals(code({ ...good, srcURL: "not a url" }), 106);
  assertEquals(code({ ...good, args: { width: 1e9 } }), 503);
});

Deno.test("rasterize needs no size", () => {
  const job = parseJobRequest({ ...good, operationType: "rasterize", args: {} }, 16384);
  assertEquals(job.outputs[0].args.width, undefined);
});

const multi = {
  operationType: "resize",
  srcURL: "http://h/a/Ex.jpg",
  outputs: [
    { dstURL: "ftp://h/large/{$basename}.{$ext}", args: { width: 1280, mode: "fit" } },
    { dstURL: "file:///srv/thumbs/{$basename}.jpg", args: { width: 200, height: 120, quality: 80 } },
  ],
};

/** The error a body is refused with. */
function refusal(body: unknown): ImgserveError {
  return assertThrows(() => parseJobRequest(body, 16384), ImgserveError);
}

Deno.test("the outputs form gives one checked output per entry, in order", () => {
  const job = parseJobRequest(multi, 16384);
  assertEquals(job.multi, true);
  assertEquals(job.outputs.map((o) => [o.dstTemplate, o.args.width, o.args.mode]), [
    ["ftp://h/large/{$basename}.{$ext}", 1280, "fit"],
    ["file:///srv/thumbs/{$basename}.jpg", 200, "cover"],
  ]);
});

Deno.test("outputs with dstURL or args beside them, none, or more than 16 get their own codes", () => {
  assertEquals(code({ ...multi, dstURL: "file:///x.png" }), 117);
  assertEquals(code({ ...multi, args: { width: 3 } }), 117);
  assertEquals(code({ ...multi, outputs: [] }), 118);
  const seventeen = Array.from({ length: 17 }, (_, i) => ({ dstURL: `file:///o/${i}.png`, args: { width: 9 } }));
  const tooMany = refusal({ ...multi, outputs: seventeen });
  assertEquals([tooMany.code, tooMany.message], [118, `"outputs" has 17 entries; a job takes 1 to 16`]);
  assertEquals(parseJobRequest({ ...multi, outputs: seventeen.slice(1) }, 16384).outputs.length, 16);
  assertEquals(code({ ...multi, outputs: { dstURL: "file:///x.png" } }), 102);
});

Deno.test("a bad output is refused with the code of its fault and its index in the message", () => {
  const withOutput = (output: unknown) => ({ ...multi, outputs: [...multi.outputs, output] });
  const tag = refusal(withOutput({ dstURL: "file:///o/{$foo}.png", args: { width: 9 } }));
  assertEquals(tag.code, 105);
  assert(tag.message.startsWith("outputs[2].dstURL has an unknown tag {$foo}"), tag.message);
  const width = refusal(withOutput({ dstURL: "file:///o/x.png", args: { width: -1 } }));
  assertEquals([width.code, width.message], [104, "outputs[2].args.width must be a positive whole number"]);
  const noSize = refusal(withOutput({ dstURL: "file:///o/x.png", args: {} }));
  assertEquals([noSize.code, noSize.message], [104, "outputs[2]: resize needs args.width, args.height or both"]);
  const noArgs = refusal(withOutput({ dstURL: "file:///o/x.png" }));
  assertEquals([noArgs.code, noArgs.message], [101, `outputs[2] has no "args" key`]);
  const url = refusal(withOutput({ dstURL: "no scheme", args: { width: 9 } }));
  assertEquals(url.code, 106);
  assert(url.message.startsWith("outputs[2].dstURL"), url.message);
  assertEquals(code(withOutput("file:///o/x.png")), 102);
  assertEquals(code(withOutput({ dstURL: 7, args: { width: 9 } })), 102);
  assertEquals(code(withOutput({ dstURL: "file:///o/x.png", args: { width: 9 }, callbackURL: "x" })), 104);
});

Deno.test("the single form's messages name no index", () => {
  assertEquals(refusal({ ...good, args: { width: -1 } }).message, "args.width must be a positive whole number");
});

Deno.test("args.s3 is checked before anything is written: s3:// destinations only, header-safe values, 2 KB", () => {
  const s3Job = { ...good, dstURL: "s3://bucket/thumbs/{$basename}.png" };
  const s3 = { cacheControl: "public, max-age=600", metadata: { owner: "shop-7" } };
  assertEquals(parseJobRequest({ ...s3Job, args: { width: 10, s3 } }, 16384).outputs[0].args.s3, s3);
  const message = (body: unknown) => assertThrows(() => parseJobRequest(body, 16384), ImgserveError).message;
  assertEquals(message({ ...good, args: { width: 10, s3 } }), "args.s3 applies to s3:// destinations, not ftp:");
  assertEquals(code({ ...s3Job, args: { width: 10, s3: "max-age=1" } }), 104);
  assertEquals(code({ ...s3Job, args: { width: 10, s3: { acl: "public-read" } } }), 104);
  assertEquals(code({ ...s3Job, args: { width: 10, s3: { cacheControl: "a\r\nx-amz-acl: public" } } }), 104);
  assertEquals(code({ ...s3Job, args: { width: 10, s3: { metadata: { "Owner Name": "x" } } } }), 104);
  assertEquals(code({ ...s3Job, args: { width: 10, s3: { metadata: { owner: 7 } } } }), 104);
  const big = Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`k${i}`, "v".repeat(250)]));
  assertEquals(
    message({ ...s3Job, args: { width: 10, s3: { metadata: big } } }),
    "args.s3.metadata is over S3's 2048 bytes",
  );
});

Deno.test("args.page is a whole number from 0 to 9999, kept only when above 0, and one value for all outputs", () => {
  const page = (value: unknown) => ({ ...good, args: { ...good.args, page: value } });
  assertEquals(parseJobRequest(page(3), 16384).outputs[0].args.page, 3);
  assertEquals(parseJobRequest(page(0), 16384).outputs[0].args.page, undefined);
  for (const bad of [-1, 1.5, "2", true, [1], 10_000]) assertEquals(code(page(bad)), 104, JSON.stringify(bad));
  const outputs = (a: unknown, b: unknown) => ({
    operationType: "resize",
    srcURL: "http://h/a.tif",
    outputs: [{ dstURL: "file:///t/a.png", args: { width: 5, page: a } }, {
      dstURL: "file:///t/b.png",
      args: { width: 5, page: b },
    }],
  });
  assertEquals(parseJobRequest(outputs(2, 2), 16384).outputs[1].args.page, 2);
  assertEquals(code(outputs(1, undefined)), 104);
});
