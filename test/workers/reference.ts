/**
 * The high-quality reference the resize tests compare against: a full-size
 * decode (EXIF orientation applied by mozjpeg), the plan's crop, and one
 * Lanczos3 pass in linear light over every source pixel.
 */
import decodeJpeg from "@jsquash/jpeg/decode.js";
import resize from "@jsquash/resize";
import { readHeader } from "../../src/image/header.ts";
import { coverCrop } from "../../src/job/planner.ts";
import type { Plan } from "../../protocol/plan.ts";
import { codecs } from "../helpers/images.ts";

/** A resize plan to width x height, cover or fit, for the given JPEG bytes. */
export function planFor(bytes: Uint8Array, width: number, height: number, mode: "cover" | "fit"): Plan {
  const source = readHeader(bytes, true);
  const crop = mode === "cover" ? coverCrop(source.width, source.height, width, height) : {
    x: 0,
    y: 0,
    width: source.width,
    height: source.height,
  };
  return { op: "resize", source, width, height, format: "jpeg", quality: 80, mode, crop };
}

/** Full-resolution Lanczos3 of the plan's crop, before any encoding. */
export async function referencePixels(bytes: Uint8Array, plan: Plan): Promise<ImageData> {
  await codecs();
  const full = await decodeJpeg(bytes.slice().buffer, { preserveOrientation: true });
  const { x, y, width, height } = plan.crop;
  const cropped = new Uint8ClampedArray(width * height * 4);
  for (let row = 0; row < height; row++) {
    const from = ((y + row) * full.width + x) * 4;
    cropped.set(full.data.subarray(from, from + width * 4), row * width * 4);
  }
  return await resize(new ImageData(cropped, width, height), {
    width: plan.width,
    height: plan.height,
    method: "lanczos3",
    premultiply: false,
    linearRGB: true,
  });
}
