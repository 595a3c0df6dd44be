/**
 * The resize operation: decode a PNG or JPEG, crop to the plan's rectangle,
 * shrink, encode.
 *
 * @module
 */
import decodeJpeg from "@jsquash/jpeg/decode.js";
import type { FailOn, ImageHeader, Plan, Rect } from "../../protocol/plan.ts";
import { encodeResult } from "./encode.ts";
import { decodeMore } from "./decode_more.ts";
import { decodeJpegScaled, scaleEighths, TJPF_CMYK } from "./jpeg_scaled.ts";
import { cmykToRgba, rgbToSrgb } from "./colour.ts";
import { colourInfo } from "./icc.ts";
import { pngForDecoder } from "../../src/image/png_chunks.ts";
import { assertFewScans } from "../../src/image/decode_limits.ts";
import { orient, swapsSides } from "./orient.ts";
import { boxShrink, crop, fromImageData, isOpaque, type Pixels } from "./pixels.ts";
import { lanczos3 } from "./lanczos.ts";
import type { StageTimer } from "./timer.ts";
import { release } from "./release.ts";
import { damaged, jpegWarningCause, takeJpegWarning } from "./damage.ts";
import { completePng, pngDamage } from "./png_damage.ts";
import { freeGrownDecoders } from "./decoder_memory.ts";
import { decodePngFile } from "./png_decoder.ts";
import { wasmMemoryBytes } from "../memory.ts";
import { encodeMemoryBytes } from "./plan_memory.ts";

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

/** Decoded pixels, as displayed, at `scale` decoded pixels per source pixel. */
type ScaledImage = Pick<DecodedSource, "image" | "scale">;

/**
 * A source decoded once for several outputs: pixels as displayed, in sRGB,
 * at `scale` decoded pixels per source pixel (below 1 after a reduced JPEG
 * decode).
 */
export interface DecodedSource {
  image: Pixels;
  scale: number;
  /** The smallest size the decode had to keep, as a fraction of the source's: set by the most demanding output. */
  factor: number;
}

/** Runs a resize plan on the source bytes. */
export async function resizeOp(bytes: Uint8Array, plan: Plan, timer: StageTimer): Promise<ArrayBuffer> {
  const scaled = await resizePixels(bytes, plan, timer);
  const encoded = await timer.time("encode", () => encodeResult(scaled, plan));
  release(scaled.data);
  return encoded;
}

/** Decodes and scales to the plan's size: everything but the encode. The decoded pixels are freed. */
export async function resizePixels(bytes: Uint8Array, plan: Plan, timer: StageTimer): Promise<Pixels> {
  const decoded = await decodeSource(bytes, [plan], timer);
  const scaled = scaleFor(decoded, plan, timer);
  if (decoded.image.data !== scaled.data) release(decoded.image.data);
  return scaled;
}

/**
 * Decodes the source once for every plan (all share its header and its
 * failOn): a JPEG's reduced-scale decode is the one the largest output can
 * still use.
 */
export async function decodeSource(bytes: Uint8Array, plans: Plan[], timer: StageTimer): Promise<DecodedSource> {
  // The margin over the most demanding output (relative to its crop) decides the decode's scale.
  const factor = Math.max(...plans.map(decodeFactor));
  const failOn = plans[0].failOn ?? "warning";
  const before = wasmMemoryBytes();
  const decoded = await timer.time("decode", () => decode(bytes, plans[0].source, factor, failOn));
  await freeGrownDecoders(before, Math.max(...plans.map(encodeMemoryBytes)));
  return { ...decoded, factor };
}

/** How large a decode the plan needs, as a fraction of the source's size. */
function decodeFactor(plan: Plan): number {
  return DECODE_MARGIN * Math.max(plan.width / plan.crop.width, plan.height / plan.crop.height);
}

/** One output's pixels from the decoded source, which is left as it was. */
export function scaleFor(decoded: DecodedSource, plan: Plan, timer: StageTimer): Pixels {
  const { image, crop } = cropIn(decoded, plan.crop);
  // A JPEG decoded larger than this output alone would have been (for a larger one) is box-shrunk down to the
  // margin its own reduced decode would have kept: the same filtering, as cheap as that decode would have been.
  const margin = plan.source.format === "jpeg" && decodeFactor(plan) < decoded.factor ? DECODE_MARGIN : BOX_MARGIN;
  return timer.timeSync("resize", () => scale(image, crop, plan, margin));
}

/** A source rectangle in the decoded pixels' coordinates. */
function cropIn({ image, scale: s }: ScaledImage, rect: Rect): Decoded {
  if (s === 1) return { image, crop: rect };
  const x = Math.min(image.width - 1, Math.round(rect.x * s));
  const y = Math.min(image.height - 1, Math.round(rect.y * s));
  const width = Math.max(1, Math.min(image.width - x, Math.round((rect.x + rect.width) * s) - x));
  const height = Math.max(1, Math.min(image.height - y, Math.round((rect.y + rect.height) * s) - y));
  return { image, crop: { x, y, width, height } };
}

/**
 * Decodes to sRGB: an embedded profile (or CMYK) is converted right after
 * decoding, before any resampling. `factor` is the smallest size the
 * decoded image may have, as a fraction of the source's.
 */
async function decode(bytes: Uint8Array, source: ImageHeader, factor: number, failOn: FailOn): Promise<ScaledImage> {
  if (source.format === "jpeg") assertFewScans(bytes);
  const colour = colourInfo(bytes, source.format);
  if (colour.components === 4) {
    const cmyk = { icc: colour.icc, inverted: colour.adobe === true };
    return decodeScaledJpeg(bytes, source, factor, failOn, cmyk) as Promise<ScaledImage>;
  }
  const decoded = await decodeAsStored(bytes, source, factor, failOn);
  if (colour.icc) await rgbToSrgb(decoded.image, colour.icc);
  return decoded;
}

async function decodeAsStored(
  bytes: Uint8Array,
  source: ImageHeader,
  factor: number,
  failOn: FailOn,
): Promise<ScaledImage> {
  if (source.format !== "jpeg" && source.format !== "png") {
    return { image: await decodeMore(bytes, source, failOn), scale: 1 };
  }
  if (source.format === "jpeg") {
    const scaled = await decodeScaledJpeg(bytes, source, factor, failOn);
    if (scaled) return scaled;
  }
  const image = fromImageData(
    source.format === "jpeg" ? await decodeFullJpeg(bytes, failOn) : await decodeCheckedPng(bytes, failOn),
  );
  if (image.width !== source.width || image.height !== source.height) {
    throw new Error(
      `decoded size ${image.width}x${image.height} differs from the header's ${source.width}x${source.height}`,
    );
  }
  return { image, scale: 1 };
}

/** MozJPEG's full-size decode; libjpeg prints a warning rather than failing, and that is caught here. */
async function decodeFullJpeg(bytes: Uint8Array, failOn: FailOn): Promise<ImageData> {
  takeJpegWarning();
  // It copies the bytes into its own memory from any byte view.
  const image = await decodeJpeg(bytes as unknown as ArrayBuffer, { preserveOrientation: true });
  const warning = takeJpegWarning();
  if (warning !== undefined) damaged("jpeg", warning, failOn, image.data);
  return image;
}

/**
 * A PNG that passed its structural check (or with "none" one made whole, see
 * png_damage.ts), decoded from only the chunks its pixels need.
 */
async function decodeCheckedPng(bytes: Uint8Array, failOn: FailOn): Promise<ImageData> {
  const damage = pngDamage(bytes);
  if (damage) damaged("png", damage.why, failOn);
  const whole = damage?.cut ? await completePng(bytes) : bytes;
  const data = pngForDecoder(whole);
  // The decoder copies the bytes into its own memory from any byte view.
  const image = decodePngFile(data);
  if (whole !== bytes) release(whole);
  if (data !== whole) release(data);
  return image;
}

/**
 * A JPEG decoded at the smallest n/8 scale that keeps it at least `factor`
 * of its size, turned upright; undefined when no reduction is possible or
 * libjpeg-turbo refuses the file, so the full decoder gets its chance. With
 * `cmyk` (a CMYK or YCCK JPEG, which only libjpeg-turbo decodes here) it
 * always decodes, or throws. Damaged data is refused unless `failOn` is "none".
 */
async function decodeScaledJpeg(
  bytes: Uint8Array,
  source: ImageHeader,
  factor: number,
  failOn: FailOn,
  cmyk?: { icc?: Uint8Array; inverted: boolean },
): Promise<ScaledImage | undefined> {
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
  if (stored.warned) damaged("jpeg", jpegWarningCause(bytes), failOn, stored.data);
  if (cmyk) {
    const rgba = await cmykToRgba(stored.data, stored.width, stored.height, cmyk.icc, cmyk.inverted);
    release(stored.data);
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
  if (image !== stored) release(stored.data);
  return { image, scale: stored.scale };
}

/**
 * Crop, then box-shrink while at least `margin` times the target, then
 * Lanczos3 (in strips, reading the crop in place).
 */
export function scale(src: Pixels, rect: Rect, plan: Plan, margin = BOX_MARGIN): Pixels {
  const fx = Math.floor(rect.width / (plan.width * margin));
  const fy = Math.floor(rect.height / (plan.height * margin));
  if (fx <= 1 && fy <= 1) {
    if (rect.width === plan.width && rect.height === plan.height) {
      return crop(src, rect.x, rect.y, rect.width, rect.height);
    }
    return lanczos3(src, rect, plan.width, plan.height, plan.source.hasAlpha && !isOpaque(src));
  }
  const shrunk = boxShrink(src, Math.max(1, fx), Math.max(1, fy), rect);
  if (shrunk.width === plan.width && shrunk.height === plan.height) return shrunk;
  const whole = { x: 0, y: 0, width: shrunk.width, height: shrunk.height };
  const out = lanczos3(shrunk, whole, plan.width, plan.height, plan.source.hasAlpha && !isOpaque(shrunk));
  release(shrunk.data);
  return out;
}
