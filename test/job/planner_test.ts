import { assertEquals, assertThrows } from "../helpers/assert.ts";
import { ImgserveError } from "../../protocol/error_codes.ts";
import { planJob } from "../../src/job/planner.ts";
import { parseJobRequest } from "../../src/job/request.ts";
import type { ImageHeader } from "../../protocol/plan.ts";

const source: ImageHeader = { format: "jpeg", width: 3000, height: 1000, orientation: 1, hasAlpha: false };
const plan = (args: Record<string, unknown>, header = source, operationType = "resize") => {
  const job = parseJobRequest({ operationType, srcURL: "file:///a.jpg", dstURL: "file:///b", args }, 16384);
  return planJob({ operationType: job.operationType, args: job.outputs[0].args }, header, 16384);
};

Deno.test("cover gives exactly the box and crops the centre band", () => {
  const p = plan({ width: 100, height: 100 });
  assertEquals([p.width, p.height], [100, 100]);
  assertEquals(p.crop, { x: 1000, y: 0, width: 1000, height: 1000 });
});

Deno.test("one side given keeps the aspect ratio", () => {
  const p = plan({ width: 300 });
  assertEquals([p.width, p.height], [300, 100]);
  assertEquals(plan({ height: 50 }).width, 150);
});

Deno.test("fit stays inside the box, stretch fills it", () => {
  const fit = plan({ width: 300, height: 300, mode: "fit" });
  assertEquals([fit.width, fit.height], [300, 100]);
  const stretch = plan({ width: 300, height: 300, mode: "stretch" });
  assertEquals([stretch.width, stretch.height, stretch.crop.width], [300, 300, 3000]);
});

Deno.test("format follows the source unless asked", () => {
  assertEquals(plan({ width: 10 }).format, "jpeg");
  assertEquals(plan({ width: 10, format: "png" }).format, "png");
});

Deno.test("WebP and AVIF sources stay WebP and AVIF; GIF and BMP become PNG; quality defaults per format", () => {
  const as = (format: ImageHeader["format"]) => ({ ...source, format });
  assertEquals(plan({ width: 10 }, as("webp")).format, "webp");
  assertEquals(plan({ width: 10 }, as("avif")).format, "avif");
  assertEquals(plan({ width: 10 }, as("gif")).format, "png");
  assertEquals(plan({ width: 10 }, as("bmp")).format, "png");
  assertEquals(plan({ width: 10, format: "avif" }, as("gif")).format, "avif");
  assertEquals(plan({ width: 10 }).quality, 85);
  assertEquals(plan({ width: 10, format: "webp" }).quality, 80);
  assertEquals(plan({ width: 10, format: "avif" }).quality, 60);
  assertEquals(plan({ width: 10, format: "webp", quality: 50, lossless: true }).lossless, true);
  assertEquals(plan({ width: 10, format: "avif", quality: 30 }).quality, 30);
});

Deno.test("an SVG cannot be resized, a JPEG cannot be rasterized", () => {
  const svg: ImageHeader = { format: "svg", width: 10, height: 10, orientation: 1, hasAlpha: true };
  assertEquals(assertThrows(() => plan({ width: 10 }, svg), ImgserveError).code, 205);
  assertEquals(assertThrows(() => plan({}, source, "rasterize"), ImgserveError).code, 205);
  const r = plan({ height: 20 }, svg, "rasterize");
  assertEquals([r.width, r.height, r.format], [20, 20, "png"]);
});

Deno.test("a WebP result wider than libwebp's 16383 pixels is refused (503) when --max-side allows it", () => {
  const wide = plan({ width: 16384, height: 10, mode: "stretch" });
  assertEquals([wide.width, wide.format], [16384, "jpeg"]);
  const webp = assertThrows(() => plan({ width: 16384, height: 10, mode: "stretch", format: "webp" }), ImgserveError);
  assertEquals([webp.code, webp.status], [503, 422]);
  assertEquals(plan({ width: 16383, height: 10, mode: "stretch", format: "webp" }).width, 16383);
});
