/**
 * The resize operation: decode a PNG or JPEG, crop to the plan's rectangle,
 * shrink, encode.
 *
 * @module
 */
import decodeJpeg from "@jsquash/jpeg/decode.js";
import decodePng from "@jsquash/png/decode.js";
import resize from "@jsquash/resize";
import type { Plan } from "../../src/job/plan.ts";
import { encodeResult } from "./encode.ts";
import { boxShrink, crop, fromImageData, isOpaque, type Pixels, toImageData } from "./pixels.ts";
import type { StageTimer } from "./timer.ts";

/** Pre-shrink with a box filter while the image stays at least this many times the target. */
const BOX_MARGIN = 3;

/** Runs a resize plan on the source bytes. */
export async function resizeOp(bytes: ArrayBuffer, plan: Plan, timer: StageTimer): Promise<ArrayBuffer> {
  const decoded = fromImageData(
    await timer.time(
      "decode",
      () => plan.source.format === "jpeg" ? decodeJpeg(bytes, { preserveOrientation: true }) : decodePng(bytes),
    ),
  );
  if (decoded.width !== plan.source.width || decoded.height !== plan.source.height) {
    throw new Error(
      `decoded size ${decoded.width}x${decoded.height} differs from the header's ${plan.source.width}x${plan.source.height}`,
    );
  }
  const scaled = await timer.time("resize", () => scale(decoded, plan));
  return await timer.time("encode", () => encodeResult(scaled, plan));
}

/** Crop, then box-shrink while far above the target, then Lanczos3. */
export async function scale(src: Pixels, plan: Plan): Promise<Pixels> {
  const { x, y, width, height } = plan.crop;
  let image = crop(src, x, y, width, height);
  const fx = Math.floor(image.width / (plan.width * BOX_MARGIN));
  const fy = Math.floor(image.height / (plan.height * BOX_MARGIN));
  if (fx > 1 || fy > 1) image = boxShrink(image, Math.max(1, fx), Math.max(1, fy));
  if (image.width === plan.width && image.height === plan.height) return image;
  const opaque = isOpaque(image);
  const out = await resize(toImageData(image), {
    width: plan.width,
    height: plan.height,
    method: "lanczos3",
    premultiply: !opaque,
    linearRGB: true,
  });
  return fromImageData(out);
}
