/**
 * The high-quality reference the resize tests compare against: a full-size
 * decode (EXIF orientation applied by mozjpeg), the plan's crop, and one
 * Lanczos3 pass in linear light over every source pixel; and PSNR.
 */
import decodeJpeg from "@jsquash/jpeg/decode.js";
import resize from "@jsquash/resize";
import { readHeader } from "../../src/image/header.ts";
import { coverCrop, type Plan } from "../../src/job/plan.ts";
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

/** Peak signal-to-noise ratio over the colour channels, in dB. */
export function psnr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`sizes differ: ${a.length} and ${b.length} bytes`);
  let sum = 0;
  let n = 0;
  for (let i = 0; i < a.length; i++) {
    if (i % 4 === 3) continue;
    const d = a[i] - b[i];
    sum += d * d;
    n++;
  }
  return sum === 0 ? Infinity : 10 * Math.log10(255 * 255 * n / sum);
}
