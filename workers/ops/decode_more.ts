/**
 * Decoding of the formats beyond PNG and JPEG (WebP, AVIF, GIF's first
 * frame, BMP) to upright RGBA pixels, checked against the header's size.
 *
 * @module
 */
import type { ImageHeader } from "../../src/image/header.ts";
import { decodeAvif, decodeBmp, decodeGif, decodeWebp } from "../lazy_codecs.ts";
import { orient } from "./orient.ts";
import type { Pixels } from "./pixels.ts";

/** Decodes a WebP, AVIF, GIF or BMP source as displayed. */
export async function decodeMore(bytes: Uint8Array, source: ImageHeader): Promise<Pixels> {
  let image: Pixels;
  switch (source.format) {
    case "webp":
      image = await decodeWebp(bytes);
      break;
    case "avif":
      // libavif leaves irot/imir to the caller; the header turned them into an EXIF orientation.
      image = orient(await decodeAvif(bytes), source.orientation);
      break;
    case "gif":
      image = await decodeGif(bytes);
      break;
    case "bmp":
      image = await decodeBmp(bytes);
      break;
    default:
      throw new Error(`no decoder for ${source.format}`);
  }
  if (image.width !== source.width || image.height !== source.height) {
    throw new Error(
      `decoded size ${image.width}x${image.height} differs from the header's ${source.width}x${source.height}`,
    );
  }
  return image;
}
