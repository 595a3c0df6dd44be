/**
 * Pixels → PNG, JPEG, WebP or AVIF bytes, the last step of every operation.
 * Nothing but pixels goes in, so results carry no EXIF, XMP or ICC data.
 *
 * @module
 */
import encodeJpeg from "@jsquash/jpeg/encode.js";
import type { Plan } from "../../protocol/plan.ts";
import { encodeAvif, encodeWebp } from "../lazy_codecs.ts";
import { encodePng } from "./png.ts";
import { flattenOnWhite, type Pixels, toImageData } from "./pixels.ts";

/**
 * libaom's speed for AVIF results (0 slowest .. 10 fastest); see the
 * README's measurements: 8 is about half the time of the default 6 for
 * thumbnails at nearly the same size.
 */
export const AVIF_SPEED = 8;

/**
 * Encodes in the plan's format. PNG keeps only the channels the pixels
 * use; JPEG has no alpha, so it is flattened on white. JPEGs are baseline: progressive scans cost mozjpeg several ms per
 * thumbnail and buy nothing at thumbnail sizes.
 */
export async function encodeResult(pixels: Pixels, plan: Plan): Promise<ArrayBuffer> {
  if (plan.format === "png") return encodePng(pixels, plan.source.hasAlpha).buffer;
  if (plan.format === "webp") {
    return await encodeWebp(pixels, plan.lossless ? { lossless: 1, quality: 75, exact: 0 } : { quality: plan.quality });
  }
  if (plan.format === "avif") return await encodeAvif(pixels, { quality: plan.quality, speed: AVIF_SPEED });
  return await encodeJpeg(toImageData(flattenOnWhite(pixels)), { quality: plan.quality, progressive: false });
}
