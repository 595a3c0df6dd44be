import { assertEquals, assertThrows } from "../helpers/assert.ts";
import { ImgserveError } from "../../protocol/error_codes.ts";
import { planJob } from "../../src/job/planner.ts";
import { parseJobRequest } from "../../src/job/request.ts";
import type { ImageHeader } from "../../protocol/plan.ts";
import { planMemoryBytes } from "../../protocol/plan_memory.ts";

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

Deno.test("an animation stays animated in GIF or WebP, its own format by default unless the name says otherwise", () => {
  const gif: ImageHeader = { format: "gif", width: 300, height: 200, orientation: 1, hasAlpha: true, frames: 12 };
  const webp: ImageHeader = { ...gif, format: "webp" };
  const planned = (header: ImageHeader, args: Record<string, unknown>, dstTemplate: string) => {
    const job = parseJobRequest({ operationType: "resize", srcURL: "file:///a", dstURL: dstTemplate, args }, 16384);
    return planJob({ operationType: "resize", args: job.outputs[0].args, dstTemplate }, header, 16384);
  };
  const pick = (p: ReturnType<typeof planned>) => [p.format, p.animated ?? false, p.frame];
  assertEquals(pick(planned(gif, { width: 30 }, "file:///o/{$basename}.{$ext}")), ["gif", true, undefined]);
  assertEquals(pick(planned(gif, { width: 30 }, "file:///o/x.GIF")), ["gif", true, undefined]);
  assertEquals(pick(planned(gif, { width: 30 }, "file:///o/x.png")), ["png", false, 0]);
  assertEquals(pick(planned(gif, { width: 30, format: "webp" }, "file:///o/x")), ["webp", true, undefined]);
  assertEquals(pick(planned(webp, { width: 30 }, "file:///o/x.webp")), ["webp", true, undefined]);
  assertEquals(pick(planned(webp, { width: 30, format: "gif" }, "file:///o/x")), ["gif", true, undefined]);
  assertEquals(pick(planned(webp, { width: 30, format: "avif" }, "file:///o/x")), ["avif", false, 0]);
  // Without a format, an animation takes the other animated format its destination is named for.
  assertEquals(pick(planned(gif, { width: 30 }, "file:///o/x.webp")), ["webp", true, undefined]);
  assertEquals(pick(planned(webp, { width: 30 }, "file:///o/x.gif")), ["gif", true, undefined]);
  assertEquals(pick(planned(webp, { width: 30 }, "file:///o/x.png")), ["webp", true, undefined]);
  assertEquals(pick(planned(gif, { width: 30, frame: 11 }, "file:///o/x.gif")), ["gif", false, 11]);
  assertEquals(pick(planned(gif, { width: 30, animated: false }, "file:///o/x.gif")), ["gif", false, 0]);
  const past = assertThrows(() => planned(gif, { width: 30, frame: 12 }, "file:///o/x.gif"), ImgserveError);
  assertEquals(past.name, "FRAME_OUT_OF_RANGE");
  // A still source has frame 0 only.
  assertEquals(plan({ width: 30, frame: 0 }).frame, undefined);
  assertEquals(assertThrows(() => plan({ width: 30, frame: 1 }), ImgserveError).name, "FRAME_OUT_OF_RANGE");
  // The result's frames count against --max-animation-pixels: 12 frames of 30x20 are 7200.
  const many = (limit: number) =>
    planJob(
      { operationType: "resize", args: { mode: "cover", width: 30 }, dstTemplate: "file:///x.gif" },
      gif,
      16384,
      10_000_000,
      limit,
    );
  assertEquals(many(7200).animated, true);
  assertEquals(assertThrows(() => many(7199), ImgserveError).name, "ANIMATION_TOO_MANY_PIXELS");
});

Deno.test("an animation's memory plan counts its canvases beside one frame's decode", () => {
  const still: ImageHeader = { format: "webp", width: 1000, height: 1000, orientation: 1, hasAlpha: true };
  const args = { mode: "cover" as const, width: 100 };
  const stillNeed = planMemoryBytes(planJob({ operationType: "resize", args }, still, 16384));
  const animNeed = planMemoryBytes(planJob({ operationType: "resize", args }, { ...still, frames: 500 }, 16384));
  // Two canvases of 4 bytes a pixel more, however many frames.
  assertEquals(animNeed > stillNeed && animNeed - stillNeed < 10 * 1024 * 1024, true, `${stillNeed} ${animNeed}`);
});
