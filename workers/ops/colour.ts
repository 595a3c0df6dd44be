/**
 * Colour conversion to sRGB with LittleCMS (lcms-wasm): sources with an
 * embedded RGB profile, and CMYK JPEGs through their embedded CMYK profile,
 * else through the server's standard one (`--cmyk-profile`), as libvips
 * does. Only when neither is usable does ImageMagick's plain formula,
 * R = (1-C)(1-K), apply.
 *
 * @module
 */
import { TYPE_CMYK_8, TYPE_CMYK_8_REV, TYPE_RGB_8, TYPE_RGBA_8 } from "lcms-wasm/dist/lcms.js";
import { drop, lcms } from "../lazy_codecs.ts";
import type { Pixels } from "./pixels.ts";

const SIG_RGB = 0x52474220;
const SIG_CMYK = 0x434d594b;
const INTENT_PERCEPTUAL = 0;
const INFO_DESCRIPTION = 0;
const FLAGS_COPY_ALPHA = 0x04000000;
/** Pixels per cmsDoTransform call, so the codec's heap stays small whatever the image. */
const STRIP = 1 << 18;

// deno-lint-ignore no-explicit-any
type Lcms = any;

/** The server's standard CMYK profile, set once when the worker starts. */
let defaultCmykProfile: Uint8Array | undefined;

/**
 * Transforms through the standard CMYK profile, by input format: making one
 * costs about 40 ms (LittleCMS precalculates its table), more than a
 * thumbnail's whole decode, so each is made once per LittleCMS instance.
 */
let kept: { cms: Lcms; transforms: Map<number, number> } | undefined;

/** Sets the CMYK profile used for CMYK JPEGs without an embedded one (undefined: the plain formula). */
export function setDefaultCmykProfile(icc: Uint8Array | undefined): void {
  defaultCmykProfile = icc;
  kept = undefined;
}

/** Opens a profile; undefined when LittleCMS cannot read it or its colour space is not `space`. */
function open(cms: Lcms, icc: Uint8Array, space: number): number | undefined {
  const profile = cms.cmsOpenProfileFromMem(icc, icc.length);
  if (!profile) return undefined;
  if (cms.cmsGetColorSpace(profile) !== space) {
    cms.cmsCloseProfile(profile);
    return undefined;
  }
  return profile;
}

/** A transform from `icc` to sRGB; 0 when LittleCMS cannot use the profile, or it is sRGB already. */
function createTransform(
  cms: Lcms,
  icc: Uint8Array,
  space: number,
  inFormat: number,
  outFormat: number,
  flags: number,
): number {
  const profile = open(cms, icc, space);
  if (profile === undefined) return 0;
  const srgb = cms.cmsCreate_sRGBProfile();
  try {
    // Most tagged photos say sRGB already: converting them would cost time and change nothing.
    if (space === SIG_RGB && /^sRGB\b/i.test(cms.cmsGetProfileInfoASCII(profile, INFO_DESCRIPTION, "en", "US"))) {
      return 0;
    }
    return cms.cmsCreateTransform(profile, inFormat, srgb, outFormat, INTENT_PERCEPTUAL, flags) || 0;
  } catch (err) {
    drop("lcms");
    throw err;
  } finally {
    // A transform keeps what it needs of its profiles.
    cms.cmsCloseProfile(srgb);
    cms.cmsCloseProfile(profile);
  }
}

/** Runs `work` with a transform from `icc` to sRGB; with `keep`, the transform is made once and kept. */
async function withTransform<T>(
  icc: Uint8Array,
  space: number,
  inFormat: number,
  outFormat: number,
  flags: number,
  work: (cms: Lcms, transform: number) => T,
  keep = false,
): Promise<T | undefined> {
  const cms = await lcms();
  if (!kept || kept.cms !== cms) kept = { cms, transforms: new Map() };
  const transforms = kept.transforms;
  let transform = keep ? transforms.get(inFormat) : undefined;
  if (transform === undefined) {
    transform = createTransform(cms, icc, space, inFormat, outFormat, flags);
    if (keep) transforms.set(inFormat, transform);
  }
  if (!transform) return undefined;
  try {
    return work(cms, transform);
  } catch (err) {
    drop("lcms");
    kept = undefined;
    throw err;
  } finally {
    if (!keep) cms.cmsDeleteTransform(transform);
  }
}

/**
 * RGBA pixels in the colours of an embedded RGB profile, converted to sRGB
 * in place (alpha kept). A profile LittleCMS cannot read, or one for
 * another colour space, leaves the pixels as they are, as browsers do.
 */
export async function rgbToSrgb(pixels: Pixels, icc: Uint8Array): Promise<Pixels> {
  await withTransform(icc, SIG_RGB, TYPE_RGBA_8, TYPE_RGBA_8, FLAGS_COPY_ALPHA, (cms, transform) => {
    const data = pixels.data;
    for (let at = 0; at < data.length; at += STRIP * 4) {
      const part = data.subarray(at, Math.min(data.length, at + STRIP * 4));
      part.set(cms.cmsDoTransform(transform, part, part.length / 4));
    }
  });
  return pixels;
}

/**
 * CMYK samples (4 bytes a pixel, as libjpeg gives them) to opaque RGBA,
 * through `icc` (the embedded profile), else the standard CMYK profile,
 * else the plain formula. `inverted`: stored as Adobe does (255 = no ink).
 */
export async function cmykToRgba(
  cmyk: Uint8ClampedArray,
  width: number,
  height: number,
  icc: Uint8Array | undefined,
  inverted: boolean,
): Promise<Pixels> {
  const count = width * height;
  const out = new Uint8ClampedArray(count * 4);
  if (icc && await throughProfile(cmyk, count, icc, inverted, out, false)) return { data: out, width, height };
  if (defaultCmykProfile && await throughProfile(cmyk, count, defaultCmykProfile, inverted, out, true)) {
    return { data: out, width, height };
  }
  for (let i = 0; i < count * 4; i += 4) {
    let c = cmyk[i], m = cmyk[i + 1], y = cmyk[i + 2], k = cmyk[i + 3];
    if (!inverted) [c, m, y, k] = [255 - c, 255 - m, 255 - y, 255 - k];
    // Now 255 means no ink: R = (1-C)(1-K).
    out[i] = (c * k) / 255;
    out[i + 1] = (m * k) / 255;
    out[i + 2] = (y * k) / 255;
    out[i + 3] = 255;
  }
  return { data: out, width, height };
}

/** Fills `out` through a CMYK profile; false when LittleCMS cannot use it. */
async function throughProfile(
  cmyk: Uint8ClampedArray,
  count: number,
  icc: Uint8Array,
  inverted: boolean,
  out: Uint8ClampedArray,
  keep: boolean,
): Promise<boolean> {
  const done = await withTransform(
    icc,
    SIG_CMYK,
    inverted ? TYPE_CMYK_8_REV : TYPE_CMYK_8,
    TYPE_RGB_8,
    0,
    (cms, transform) => {
      for (let first = 0; first < count; first += STRIP) {
        const n = Math.min(STRIP, count - first);
        const rgb: Uint8Array = cms.cmsDoTransform(transform, cmyk.subarray(first * 4, (first + n) * 4), n);
        for (let i = 0; i < n; i++) {
          const o = (first + i) * 4;
          out[o] = rgb[i * 3];
          out[o + 1] = rgb[i * 3 + 1];
          out[o + 2] = rgb[i * 3 + 2];
          out[o + 3] = 255;
        }
      }
      return true;
    },
    keep,
  );
  return done === true;
}
