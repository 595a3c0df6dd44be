/**
 * encode: the output's pixels as PNG, JPEG, WebP, AVIF or (one frame) GIF bytes. Nothing
 * but pixels goes in, so results carry no EXIF, XMP or ICC data.
 *
 * @module
 */
import type { Plan } from "../../protocol/plan.ts";
import { encodeAvif, encodeWebp } from "../lazy_codecs.ts";
import { encodeJpegRgba } from "../ops/jpeg_encode.ts";
import { encodePng } from "../ops/png.ts";
import { GifWriter } from "../../shared/gif_writer.ts";
import type { Pixels } from "../ops/pixels.ts";
import { release } from "../ops/release.ts";
import type { OutputImage } from "./step.ts";

/**
 * libaom's speed for AVIF results (0 slowest .. 10 fastest); see the
 * README's measurements: 8 is about half the time of the default 6 for
 * thumbnails at nearly the same size.
 */
export const AVIF_SPEED = 8;

/** Sets the output's bytes, then frees its pixels, unless they are the decoded source's (the next output reads them). */
export async function encode(output: OutputImage): Promise<void> {
  const pixels = output.pixels!;
  output.bytes = await encodeAs(pixels, output.plan);
  if (pixels.data !== output.source?.image.data) release(pixels.data);
}

/**
 * Encodes in the plan's format. PNG keeps only the channels the pixels
 * use; a JPEG's pixels are flattened already (flatten.ts). JPEGs are
 * baseline: progressive scans cost mozjpeg several ms per thumbnail and buy
 * nothing at thumbnail sizes.
 */
async function encodeAs(pixels: Pixels, plan: Plan): Promise<ArrayBuffer> {
  if (plan.format === "png") return encodePng(pixels, plan.source.hasAlpha).buffer;
  if (plan.format === "webp") {
    return await encodeWebp(pixels, plan.lossless ? { lossless: 1, quality: 75, exact: 0 } : { quality: plan.quality });
  }
  if (plan.format === "avif") return await encodeAvif(pixels, { quality: plan.quality, speed: AVIF_SPEED });
  if (plan.format === "gif") {
    const gif = new GifWriter();
    gif.add(pixels, 0);
    return gif.finish().buffer;
  }
  return encodeJpegRgba(pixels, plan.quality).buffer;
}
