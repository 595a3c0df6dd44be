/**
 * How much WebAssembly memory a plan needs, from the plan alone (the
 * header's size and coding, the decode scale the worker will choose, the
 * result's size), so a job that cannot fit a worker's budget is refused
 * before anything is decoded (see {@linkcode assertFitsWorker}), and the
 * pool sends heavy plans to the worker that has grown for them. Each codec's
 * memory grows to its own peak; a decode that grew the worker by
 * WORTH_DROPPING or more is given back before the encode unless the encode
 * fits the budget beside it (workers/ops/decoder_memory.ts), so the need is
 * the larger of the two, and a smaller decode adds to the encode. The
 * resampler (workers/ops/lanczos.ts) works in strips, in a memory of its
 * own that stays small (RESAMPLE_BAND_BYTES). The bytes per pixel are
 * measured (see the README's Performance section), rounded up.
 *
 * @module
 */
import type { ImageHeader, OutputFormat, Plan, SourceFormat } from "./plan.ts";
import { DECODE_MARGIN, scaleEighths } from "./decode_scale.ts";
import { ImgserveError } from "./error_codes.ts";

/**
 * A decode that grew a worker's memory by less is kept for the next job:
 * making the decoders again and collecting costs more than it saves
 * (workers/ops/decoder_memory.ts gives larger growth back).
 */
export const WORTH_DROPPING = 32 * 1024 * 1024;

/** Memories grow in steps beyond what is asked (Emscripten's heap by up to a fifth). */
const GROWTH = 1.1;
/** The compressed source, copied into the decoder's memory: about a byte a pixel for a fine JPEG. */
const SOURCE_PER_PIXEL = 1;
/**
 * A progressive JPEG's 16-bit coefficients, with libjpeg's padding and
 * buffers: per sample (measured 2.0 on a 5000x5000 4:4:4 JPEG, at 1/8 and
 * at full scale).
 */
const COEFFICIENT_BYTES = 2.1;
/**
 * Every other decoder's growth per source pixel, the copied source
 * included: RGBA plus its own buffers, measured on 5000x5000 sources, the
 * costliest kind of each format: a palette PNG 9.1 (RGBA 4.0, grey 5.0), a
 * lossless WebP 10.0 (lossy 7.3), a GIF 5.0 (RGBA and an index a pixel,
 * outside WebAssembly: gif_decode.ts), a 32-bit BMP 8.0, an 8-bit 4:4:4
 * AVIF 18.6 (4:2:0 15.5), a 10-bit HEIC 10.8 (8-bit 5.6 to 8.7), on top
 * of libheif's own memory (HEIC_FIXED), and a byte for its copy of a fine
 * photo's coded data. A TIFF, decoded by our own code outside WebAssembly
 * but for its JPEG tiles: its RGBA, 4, plus its largest strip or tile twice
 * (the decompressed block, and a copy when Deflate gives it short), from the
 * header's `blockBytes`.
 */
const DECODE_PER_PIXEL: Record<Exclude<SourceFormat, "jpeg" | "svg">, number> = {
  png: 10,
  webp: 11,
  gif: 5,
  bmp: 9,
  avif: 20,
  heic: 12,
  tiff: 4,
};
/** libheif's memory before its first decode (16 MiB), made when a worker's first HEIC arrives. */
const HEIC_FIXED = 16 * 1024 * 1024;
/** An AVIF's alpha is a second AV1 image, decoded beside the first: 33.9 at 5000x5000, 38.6 at 2500x2500. */
const AVIF_ALPHA_PER_PIXEL = 40;
const MiB = 1024 * 1024;
/**
 * Each encoder, per result pixel: its copy of the RGBA plus its own buffers
 * (measured at 3840x2160: mozjpeg 14.6, PNG 10.8, WebP 11.6, libaom 30.1; GIF, in JavaScript: a
 * palette index a pixel and the quantizer's copies, counted as 6).
 */
const ENCODE_PER_PIXEL: Record<OutputFormat, number> = { jpeg: 16, png: 12, webp: 13, avif: 32, gif: 6 };
/** What an encoder needs whatever the size (libaom: 19 MiB for 640x480). */
const ENCODE_FIXED: Record<OutputFormat, number> = { jpeg: 0, png: 0, webp: 0, avif: 12 * MiB, gif: 0 };
/**
 * An animation is decoded a frame at a time onto one canvas; a second
 * canvas keeps what a GIF frame disposed "to previous" puts back (a WebP's
 * frame decode needs its own decoder memory, DECODE_PER_PIXEL, beside it).
 */
const ANIMATION_CANVAS_PER_PIXEL = 8;
/** Lossy WebP with alpha: the alpha plane is coded losslessly beside it (measured 23.7 at 3840x2160 and 3000x2000). */
const WEBP_ALPHA_PER_PIXEL = 26;
/** Lossless WebP: measured 45.9 bytes a pixel at 1920x1080, 38.1 at 3840x2160. */
const LOSSLESS_WEBP_PER_PIXEL = 40;
const LOSSLESS_WEBP_FIXED = 16 * MiB;

/** The resampler's memory before its first call: its stack and gamma tables (build_resample.sh's INITIAL_MEMORY). */
export const RESAMPLE_START_BYTES = 128 * 1024;
/**
 * What the resampler (workers/ops/lanczos.ts) lays out beyond its start, at most: a result too wide for it is made
 * in bands of columns. A 1280-wide result from 2560 columns needs a third of it, and is one band.
 */
export const RESAMPLE_BAND_BYTES = 1024 * 1024;

/** The encoder's need for the plan's result. */
function encodeBytes(plan: Plan): number {
  const pixels = plan.width * plan.height;
  if (plan.format === "webp" && plan.lossless) return LOSSLESS_WEBP_FIXED + pixels * LOSSLESS_WEBP_PER_PIXEL;
  if (plan.format === "webp" && plan.source.hasAlpha) return pixels * WEBP_ALPHA_PER_PIXEL;
  return ENCODE_FIXED[plan.format] + pixels * ENCODE_PER_PIXEL[plan.format];
}

/**
 * Bytes of WebAssembly memory the plan's encode needs.
 *
 * @example
 * ```ts
 * await freeGrownDecoders(before, encodeMemoryBytes(plan));
 * ```
 */
export function encodeMemoryBytes(plan: Plan): number {
  return plan.op === "resize" ? Math.ceil(encodeBytes(plan) * GROWTH) : 0;
}

/**
 * Bytes of WebAssembly memory a plan needs in a worker, on top of a fresh
 * worker's.
 *
 * @example
 * ```ts
 * planMemoryBytes(plan) > budget - freshWorkerBytes; // refuse the job
 * ```
 */
export function planMemoryBytes(plan: Plan): number {
  // An SVG is drawn and encoded in the worker's render process, not in its codecs; svg_cost.ts bounds that.
  if (plan.op !== "resize") return 0;
  const encode = encodeBytes(plan);
  const { source, crop } = plan;
  const { width, height } = source;
  let decode: number;
  if (source.format === "jpeg") {
    // As decode_at_scale.ts picks it: at least DECODE_MARGIN times the target over the crop.
    const factor = DECODE_MARGIN * Math.max(plan.width / crop.width, plan.height / crop.height);
    const scale = scaleEighths(width, height, Math.ceil(width * factor), Math.ceil(height * factor)) / 8;
    decode = Math.ceil(width * scale) * Math.ceil(height * scale) * 4 +
      ((source.progressiveSamples ?? 0) * COEFFICIENT_BYTES + SOURCE_PER_PIXEL) * width * height;
  } else {
    // A grid's tiles are decoded whole before they are cropped to the image.
    const pixels = Math.max(width * height, source.codedPixels ?? 0);
    decode = pixels * decodePerPixel(source.format, source.hasAlpha) + (source.format === "heic" ? HEIC_FIXED : 0) +
      2 * (source.blockBytes ?? 0);
    if (source.frames !== undefined) decode += width * height * ANIMATION_CANVAS_PER_PIXEL;
  }
  return Math.ceil(Math.max(decode, encode + Math.min(decode, WORTH_DROPPING)) * GROWTH) + RESAMPLE_START_BYTES +
    RESAMPLE_BAND_BYTES;
}

function decodePerPixel(format: Exclude<SourceFormat, "jpeg">, hasAlpha: boolean): number {
  if (format === "svg") return 0;
  return format === "avif" && hasAlpha ? AVIF_ALPHA_PER_PIXEL : DECODE_PER_PIXEL[format];
}

/** The costliest decode a pixel among the formats `--max-source-pixels` is set for: a lossless WebP. */
const COSTLIEST_PER_PIXEL = Math.max(
  DECODE_PER_PIXEL.png,
  DECODE_PER_PIXEL.webp,
  DECODE_PER_PIXEL.gif,
  DECODE_PER_PIXEL.bmp,
);

/**
 * The most pixels a source of this kind may have when other sources may
 * have `maxSourcePixels`. An AVIF's decoder (libaom's) needs about twice
 * what the costliest other decode does, four times with alpha, so an AVIF
 * may have only as many pixels as need no more memory than that decode at
 * `maxSourcePixels` (22 MP, 11 MP with alpha, at the default 40 MP): a
 * larger one is refused from its header (TOO_MANY_PIXELS) rather than
 * admitted by the pixel limit and refused by the memory check. A 10-bit
 * HEIC's decoder needs 12 bytes a pixel and libheif's 16 MiB: as many
 * pixels as fit what the costliest decode needs (35.3 MP at 40 MP), and
 * never less than half the limit, where that fixed part would decide.
 *
 * @example
 * ```ts
 * sourcePixelLimit({ format: "avif", hasAlpha: true }, 40_000_000); // 11_000_000
 * ```
 */
export function sourcePixelLimit(source: Pick<ImageHeader, "format" | "hasAlpha">, maxSourcePixels: number): number {
  if (source.format === "heic") {
    const fits = Math.floor((maxSourcePixels * COSTLIEST_PER_PIXEL - HEIC_FIXED) / DECODE_PER_PIXEL.heic);
    return Math.max(fits, Math.floor(maxSourcePixels / 2));
  }
  if (source.format !== "avif") return maxSourcePixels;
  return Math.floor(maxSourcePixels * COSTLIEST_PER_PIXEL / decodePerPixel("avif", source.hasAlpha));
}

/**
 * Refuses, at validation, a plan that alone needs more memory than a
 * worker may hold (`--worker-memory`): it could only fail in the worker, or
 * leave it holding that memory for good. Throws WORKER_MEMORY_EXCEEDED when
 * a fresh worker (`freshBytes` of WebAssembly memory) plus the plan's need
 * is over `budget` bytes.
 *
 * @example
 * ```ts
 * assertFitsWorker(plan, 160 * 1024 * 1024, pool.fresh?.wasm ?? 0);
 * ```
 */
export function assertFitsWorker(plan: Plan, budget: number, freshBytes: number): void {
  const need = freshBytes + planMemoryBytes(plan);
  if (need <= budget) return;
  throw new ImgserveError(
    "WORKER_MEMORY_EXCEEDED",
    `making a ${plan.width}x${plan.height} result from this ${plan.source.width}x${plan.source.height} ` +
      `${plan.source.format} needs about ${Math.ceil(need / MiB)} MiB, over the --worker-memory of ` +
      `${Math.round(budget / MiB)} MiB`,
  );
}
