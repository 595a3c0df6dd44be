/**
 * The resize operation: decode a PNG or JPEG, crop to the plan's rectangle,
 * shrink, encode.
 *
 * @module
 */
import decodeJpeg from "@jsquash/jpeg/decode.js";
import decodePng from "@jsquash/png/decode.js";
import resize from "@jsquash/resize";
import type { Plan, Rect } from "../../src/job/plan.ts";
import { encodeResult } from "./encode.ts";
import { decodeMore } from "./decode_more.ts";
import { decodeJpegScaled, scaleEighths, TJPF_CMYK } from "./jpeg_scaled.ts";
import { cmykToRgba, rgbToSrgb } from "./colour.ts";
import { colourInfo } from "./icc.ts";
import { orient, swapsSides } from "./orient.ts";
import { boxShrink, crop, fromImageData, isOpaque, type Pixels, toImageData } from "./pixels.ts";
import type { StageTimer } from "./timer.ts";

/** Pre-shrink with a box filter while the image stays at least this many times the target. */
export const BOX_MARGIN = 3;

/**
 * A scaled JPEG decode keeps the crop at least this many times the target,
 * so Lanczos still has pixels to filter; at 1x the 1/8 decode alone would
 * decide the result and alias on fine texture.
 */
export const DECODE_MARGIN = 2;

/** Decoded pixels, as displayed, and the plan's crop in their coordinates. */
interface Decoded {
  image: Pixels;
  crop: Rect;
}

/** Runs a resize plan on the source bytes. */
export async function resizeOp(bytes: Uint8Array, plan: Plan, timer: StageTimer): Promise<ArrayBuffer> {
  const scaled = await resizePixels(bytes, plan, timer);
  return await timer.time("encode", () => encodeResult(scaled, plan));
}

/** Decodes and scales to the plan's size: everything but the encode. */
export async function resizePixels(bytes: Uint8Array, plan: Plan, timer: StageTimer): Promise<Pixels> {
  const decoded = await timer.time("decode", () => decode(bytes, plan));
  return await timer.time("resize", () => scale(decoded.image, decoded.crop, plan));
}

/** Decodes to sRGB: an embedded profile (or CMYK) is converted right after decoding, before any resampling. */
async function decode(bytes: Uint8Array, plan: Plan): Promise<Decoded> {
  const colour = await colourInfo(bytes, plan.source.format);
  if (colour.components === 4) {
    return decodeScaledJpeg(bytes, plan, { icc: colour.icc, inverted: colour.adobe === true }) as Promise<Decoded>;
  }
  const decoded = await decodeAsStored(bytes, plan);
  if (colour.icc) await rgbToSrgb(decoded.image, colour.icc);
  return decoded;
}

async function decodeAsStored(bytes: Uint8Array, plan: Plan): Promise<Decoded> {
  if (plan.source.format !== "jpeg" && plan.source.format !== "png") {
    return { image: await decodeMore(bytes, plan.source), crop: plan.crop };
  }
  if (plan.source.format === "jpeg") {
    const scaled = await decodeScaledJpeg(bytes, plan);
    if (scaled) return scaled;
  }
  // Both copy the bytes into their own memory from any byte view.
  const data = bytes as unknown as ArrayBuffer;
  const image = fromImageData(
    plan.source.format === "jpeg" ? await decodeJpeg(data, { preserveOrientation: true }) : await decodePng(data),
  );
  if (image.width !== plan.source.width || image.height !== plan.source.height) {
    throw new Error(
      `decoded size ${image.width}x${image.height} differs from the header's ${plan.source.width}x${plan.source.height}`,
    );
  }
  return { image, crop: plan.crop };
}

/**
 * A JPEG decoded at the smallest n/8 scale the plan allows, turned upright,
 * with the crop scaled to match; undefined when no reduction is possible or
 * libjpeg-turbo refuses the file (truncated data), so the full decoder
 * gets its chance. With `cmyk` (a CMYK or YCCK JPEG, which only
 * libjpeg-turbo decodes here) it always decodes, or throws.
 */
async function decodeScaledJpeg(
  bytes: Uint8Array,
  plan: Plan,
  cmyk?: { icc?: Uint8Array; inverted: boolean },
): Promise<Decoded | undefined> {
  const { source, crop: rect } = plan;
  const factor = DECODE_MARGIN * Math.max(plan.width / rect.width, plan.height / rect.height);
  const minWidth = Math.ceil(source.width * factor);
  const minHeight = Math.ceil(source.height * factor);
  const swap = swapsSides(source.orientation);
  const [storedWidth, storedHeight] = swap ? [source.height, source.width] : [source.width, source.height];
  const [minStoredWidth, minStoredHeight] = swap ? [minHeight, minWidth] : [minWidth, minHeight];
  if (!cmyk && scaleEighths(storedWidth, storedHeight, minStoredWidth, minStoredHeight) === 8) return undefined;
  let stored;
  try {
    stored = decodeJpegScaled(bytes, minStoredWidth, minStoredHeight, cmyk ? TJPF_CMYK : undefined);
  } catch (err) {
    if (cmyk) throw err;
    return undefined;
  }
  if (cmyk) {
    const rgba = await cmykToRgba(stored.data, stored.width, stored.height, cmyk.icc, cmyk.inverted);
    stored = { ...rgba, scale: stored.scale };
  }
  if (
    stored.width !== Math.ceil(storedWidth * stored.scale) || stored.height !== Math.ceil(storedHeight * stored.scale)
  ) {
    throw new Error(
      `decoded size ${stored.width}x${stored.height} does not match the header's ${storedWidth}x${storedHeight}`,
    );
  }
  const image = orient(stored, source.orientation);
  const s = stored.scale;
  const x = Math.min(image.width - 1, Math.round(rect.x * s));
  const y = Math.min(image.height - 1, Math.round(rect.y * s));
  const width = Math.max(1, Math.min(image.width - x, Math.round((rect.x + rect.width) * s) - x));
  const height = Math.max(1, Math.min(image.height - y, Math.round((rect.y + rect.height) * s) - y));
  return { image, crop: { x, y, width, height } };
}

/** Crop, then box-shrink while far above the target, then Lanczos3. */
export async function scale(src: Pixels, rect: Rect, plan: Plan): Promise<Pixels> {
  const fx = Math.floor(rect.width / (plan.width * BOX_MARGIN));
  const fy = Math.floor(rect.height / (plan.height * BOX_MARGIN));
  const image = fx > 1 || fy > 1
    ? boxShrink(src, Math.max(1, fx), Math.max(1, fy), rect)
    : crop(src, rect.x, rect.y, rect.width, rect.height);
  if (image.width === plan.width && image.height === plan.height) return image;
  const opaque = !plan.source.hasAlpha || isOpaque(image);
  const out = await resize(toImageData(image), {
    width: plan.width,
    height: plan.height,
    method: "lanczos3",
    premultiply: !opaque,
    linearRGB: true,
  });
  return fromImageData(out);
}
