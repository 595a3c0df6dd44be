/**
 * decodeAtScale: the source's pixels, decoded once for all its outputs at
 * the smallest size the most demanding of them can use. A JPEG decodes at
 * n/8 of its size through libjpeg-turbo (most of the inverse DCT skipped);
 * the other formats decode whole. Damaged data is refused here, unless the
 * plans say `"failOn": "none"` (see ops/damage.ts). The pixels come out
 * as the file stores them: a CMYK JPEG's still CMYK (toSrgb converts
 * them), a scaled JPEG's not yet turned (orient turns them).
 *
 * @module
 */
import decodeJpeg from "@jsquash/jpeg/decode.js";
import type { FailOn, ImageHeader, Plan } from "../../protocol/plan.ts";
import { decodeMore } from "../ops/decode_more.ts";
import { decodeJpegScaled, TJPF_CMYK } from "../ops/jpeg_scaled.ts";
import { DECODE_MARGIN } from "../../protocol/decode_scale.ts";
import { colourInfo } from "../ops/icc.ts";
import { pngForDecoder } from "../ops/png_chunks.ts";
import { assertFewScans } from "../../shared/decode_limits.ts";
import { swapsSides } from "./orient.ts";
import { fromImageData, type Pixels } from "../ops/pixels.ts";
import { release } from "../ops/release.ts";
import { freeGrownDecoders } from "../ops/decoder_memory.ts";
import { decodePngFile } from "../ops/png_decoder.ts";
import { wasmMemoryBytes } from "../wasm_memory.ts";
import { encodeMemoryBytes } from "../../protocol/plan_memory.ts";
import { damaged, jpegWarningCause, takeJpegWarning } from "../ops/damage.ts";
import { completePng, pngDamage } from "../ops/png_damage.ts";
import { decodeTiff } from "../ops/tiff/decode.ts";
import type { SourceImage } from "./step.ts";

/** Decoded pixels as the decoder gave them, and the orientation they still need. */
interface Decoded {
  image: Pixels;
  scale: number;
  orientation: number;
}

/** Decodes the source at the scale every plan can use; reads its colour facts for toSrgb. */
export async function decodeAtScale(source: SourceImage): Promise<void> {
  const { bytes, plans } = source;
  const header = plans[0].source;
  const failOn = plans[0].failOn ?? "warning";
  // The margin over the most demanding output (relative to its crop) decides the decode's scale.
  source.factor = Math.max(...plans.map(decodeFactor));
  if (header.format === "jpeg") assertFewScans(bytes);
  const before = wasmMemoryBytes();
  if (header.format === "tiff") {
    // A TIFF's colour facts are in the IFD its decoder reads anyway.
    const { image, colour } = decodeTiff(bytes, header, failOn);
    Object.assign(source, { image, colour, scale: 1, orientation: header.orientation });
    await freeGrownDecoders(before, Math.max(...plans.map(encodeMemoryBytes)));
    return;
  }
  source.colour = colourInfo(bytes, header.format);
  const decoded = source.colour.components === 4
    ? decodeScaledJpeg(bytes, header, source.factor, failOn, TJPF_CMYK)!
    : await decodeAsStored(bytes, header, source.factor, failOn);
  Object.assign(source, decoded);
  await freeGrownDecoders(before, Math.max(...plans.map(encodeMemoryBytes)));
}

/** How large a decode the plan needs, as a fraction of the source's size. */
export function decodeFactor(plan: Plan): number {
  return DECODE_MARGIN * Math.max(plan.width / plan.crop.width, plan.height / plan.crop.height);
}

async function decodeAsStored(
  bytes: Uint8Array,
  source: ImageHeader,
  factor: number,
  failOn: FailOn,
): Promise<Decoded> {
  if (source.format !== "jpeg" && source.format !== "png") {
    return { image: await decodeMore(bytes, source, failOn), scale: 1, orientation: source.orientation };
  }
  if (source.format === "jpeg") {
    const scaled = decodeScaledJpeg(bytes, source, factor, failOn);
    if (scaled) return scaled;
  }
  // MozJPEG turns the image itself; a PNG has no orientation.
  const image = fromImageData(
    source.format === "jpeg" ? await decodeFullJpeg(bytes, failOn) : await decodeCheckedPng(bytes, failOn),
  );
  if (image.width !== source.width || image.height !== source.height) {
    throw new Error(
      `decoded size ${image.width}x${image.height} differs from the header's ${source.width}x${source.height}`,
    );
  }
  return { image, scale: 1, orientation: 1 };
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
 * A JPEG decoded as stored at the smallest n/8 scale that keeps it at least
 * `factor` of its size, 8/8 included: at full size our libjpeg-turbo build
 * (SIMD IDCT, upsampling and colour conversion) gives MozJPEG's pixels in
 * about two thirds of its time. Undefined when libjpeg-turbo refuses the
 * file, so the full decoder gets its chance. In
 * `TJPF_CMYK` (a CMYK or YCCK JPEG, which only libjpeg-turbo decodes here)
 * it always decodes, or throws. Damaged data is refused unless `failOn` is "none".
 */
function decodeScaledJpeg(
  bytes: Uint8Array,
  source: ImageHeader,
  factor: number,
  failOn: FailOn,
  pixelFormat?: number,
): Decoded | undefined {
  const cmyk = pixelFormat === TJPF_CMYK;
  const minWidth = Math.ceil(source.width * factor);
  const minHeight = Math.ceil(source.height * factor);
  const swap = swapsSides(source.orientation);
  const [storedWidth, storedHeight] = swap ? [source.height, source.width] : [source.width, source.height];
  const [minStoredWidth, minStoredHeight] = swap ? [minHeight, minWidth] : [minWidth, minHeight];
  let stored;
  try {
    stored = decodeJpegScaled(bytes, minStoredWidth, minStoredHeight, pixelFormat);
  } catch (err) {
    if (cmyk) throw err;
    return undefined;
  }
  if (stored.warned) damaged("jpeg", jpegWarningCause(bytes), failOn, stored.data);
  if (
    stored.width !== Math.ceil(storedWidth * stored.scale) || stored.height !== Math.ceil(storedHeight * stored.scale)
  ) {
    throw new Error(
      `decoded size ${stored.width}x${stored.height} does not match the header's ${storedWidth}x${storedHeight}`,
    );
  }
  const { data, width, height, scale } = stored;
  return { image: { data, width, height }, scale, orientation: source.orientation };
}
