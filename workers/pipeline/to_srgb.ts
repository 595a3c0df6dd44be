/**
 * toSrgb: the decoded pixels in sRGB, before any resampling mixes them. A
 * CMYK JPEG's samples become RGBA through its own profile, else the
 * server's standard one (`--cmyk-profile`); pixels in the colours of an
 * embedded RGB profile are converted in place. Most files say sRGB, or
 * nothing, and are left as they are (see ops/colour.ts).
 *
 * @module
 */
import { cmykToRgba, rgbToSrgb } from "../ops/colour.ts";
import { release } from "../ops/release.ts";
import type { SourceImage } from "./step.ts";

/** Converts the source's pixels to sRGB; a CMYK JPEG's samples are freed once converted. */
export async function toSrgb(source: SourceImage): Promise<void> {
  const { image, colour } = source;
  if (colour.components === 4) {
    const { data, width, height } = image;
    source.image = await cmykToRgba(data, width, height, colour.icc, colour.adobe === true);
    release(data);
  } else if (colour.icc) {
    await rgbToSrgb(image, colour.icc);
  }
}
