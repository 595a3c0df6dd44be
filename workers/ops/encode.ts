/**
 * Pixels → PNG or JPEG bytes, the last step of every operation.
 *
 * @module
 */
import encodeJpeg from "@jsquash/jpeg/encode.js";
import encodePng from "@jsquash/png/encode.js";
import type { Plan } from "../../src/job/plan.ts";
import { flattenOnWhite, type Pixels, toImageData } from "./pixels.ts";

/**
 * Encodes in the plan's format; JPEG has no alpha, so it is flattened on
 * white. JPEGs are baseline: progressive scans cost mozjpeg several ms per
 * thumbnail and buy nothing at thumbnail sizes.
 */
export async function encodeResult(pixels: Pixels, plan: Plan): Promise<ArrayBuffer> {
  if (plan.format === "png") return await encodePng(toImageData(pixels));
  return await encodeJpeg(toImageData(flattenOnWhite(pixels)), { quality: plan.quality, progressive: false });
}
