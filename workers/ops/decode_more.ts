/**
 * Decoding of the formats beyond PNG and JPEG (WebP, AVIF, HEIC, GIF's
 * first frame, BMP) to RGBA pixels as stored, checked against the header's
 * size (an AVIF's or HEIC's irot/imir is left to the pipeline's orient step).
 * A damaged source is refused unless `failOn` is "none" (see damage.ts).
 *
 * @module
 */
import type { FailOn, ImageHeader } from "../../protocol/plan.ts";
import { BmpDecodeError, decodeAvif, decodeBmp, decodeWebp } from "../lazy_codecs.ts";
import { damaged, heifDamage, webpDamage, zeroPadded } from "./damage.ts";
import { decodeHeic } from "./heic_decode.ts";
import { firstGifFrame } from "./gif_frame.ts";
import { decodeGifFrame } from "./gif_decode.ts";
import { endRleAtLastRow } from "./bmp_rle.ts";
import { swapsSides } from "../pipeline/orient.ts";
import type { Pixels } from "./pixels.ts";

/** Decodes a WebP, AVIF, HEIC, GIF or BMP source as stored. */
export async function decodeMore(bytes: Uint8Array, source: ImageHeader, failOn: FailOn = "warning"): Promise<Pixels> {
  let image: Pixels;
  // Zero padding for a cut file never makes it longer than its decoded pixels would be.
  const cap = source.width * source.height * 4 + (1 << 20);
  switch (source.format) {
    case "webp": {
      const length = webpDamage(bytes);
      if (length !== undefined) damaged("webp", `it is ${bytes.length} bytes, its RIFF header says ${length}`, failOn);
      // libwebp refuses a cut file outright; zeros in place of the missing data decode as flat blocks.
      image = await decodeWebp(length === undefined ? bytes : zeroPadded(bytes, length, cap));
      break;
    }
    case "avif": {
      const length = heifDamage(bytes);
      if (length !== undefined) damaged("avif", `it is ${bytes.length} bytes, its boxes say ${length}`, failOn);
      // libavif's AV1 decoder refuses a cut frame even when padded, so there is nothing more to try.
      // libavif leaves irot/imir to the caller; the header turned them into an EXIF orientation.
      image = await decodeAvif(bytes);
      break;
    }
    case "heic": {
      const length = heifDamage(bytes);
      if (length !== undefined) damaged("heic", `it is ${bytes.length} bytes, its boxes say ${length}`, failOn);
      // libheif too refuses data cut short, padded or not.
      const decoded = await decodeHeic(bytes);
      if (decoded.warning !== undefined) damaged("heic", decoded.warning, failOn, decoded.image.data);
      image = decoded.image;
      break;
    }
    case "gif": {
      const frame = firstGifFrame(bytes);
      if (frame.cut) damaged("gif", "it ends inside its first frame (cut short)", failOn);
      image = decodeGifFrame(frame.bytes);
      break;
    }
    case "bmp":
      image = await decodeBmpChecked(bytes, source, failOn, cap);
      break;
    default:
      throw new Error(`no decoder for ${source.format}`);
  }
  const [width, height] = swapsSides(source.orientation)
    ? [source.height, source.width]
    : [source.width, source.height];
  if (image.width !== width || image.height !== height) {
    throw new Error(`decoded size ${image.width}x${image.height} differs from the header's ${width}x${height}`);
  }
  return image;
}

/**
 * libnsbmp says when the pixel data ends early, but then gives no pixels;
 * with "none" the rows that are there are decoded again with zeros after
 * them, which an RLE BMP reads as ends of lines, so its missing rows stay
 * empty.
 */
async function decodeBmpChecked(bytes: Uint8Array, source: ImageHeader, failOn: FailOn, cap: number) {
  try {
    return await decodeBmp(endRleAtLastRow(bytes));
  } catch (err) {
    if (!(err instanceof BmpDecodeError) || !err.cut) throw err;
    damaged("bmp", "its pixel data ends early (cut short)", failOn);
    const padded = zeroPadded(bytes, bytes.length + source.width * source.height * 4 + 2 * source.height + 2, cap);
    // An RLE end-of-bitmap as the last two bytes.
    padded[padded.length - 1] = 1;
    return await decodeBmp(endRleAtLastRow(padded));
  }
}
