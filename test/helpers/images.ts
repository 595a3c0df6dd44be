/**
 * Test images made by the tests themselves, with known colours, and
 * decoding of results, using the same codecs as the workers.
 */
import decodeJpeg from "@jsquash/jpeg/decode.js";
import encodeJpeg from "@jsquash/jpeg/encode.js";
import decodePng from "@jsquash/png/decode.js";
import encodePng from "@jsquash/png/encode.js";
import { loadCodecs } from "../../workers/wasm.ts";
import { decodeAvif, decodeBmp, decodeWebp } from "../../workers/lazy_codecs.ts";
import { decodeGifFrame } from "../../workers/ops/gif_decode.ts";
import { firstGifFrame } from "../../workers/ops/gif_frame.ts";
import { readHeader } from "../../src/image/header.ts";
import type { SourceFormat } from "../../protocol/plan.ts";
import { pngChunk } from "../../shared/png_file.ts";
import { concat } from "../../shared/bytes.ts";

let loaded: Promise<void> | undefined;
/** Loads the codecs into the test process once. */
export function codecs(): Promise<void> {
  return loaded ??= loadCodecs();
}

/** RGBA colour. */
export type Rgba = [number, number, number, number];
export const RED: Rgba = [255, 0, 0, 255];
export const GREEN: Rgba = [0, 255, 0, 255];
export const BLUE: Rgba = [0, 0, 255, 255];
/** The colour of imgserve's placeholders. */
export const PLACEHOLDER_GREY: Rgba = [128, 128, 128, 255];

/** An image whose pixel colour is `paint(x, y)`. */
export function painted(width: number, height: number, paint: (x: number, y: number) => Rgba): ImageData {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) data.set(paint(x, y), (y * width + x) * 4);
  }
  return new ImageData(data, width, height);
}

/** Left third red, middle green, right third blue. */
export function thirds(width: number, height: number): ImageData {
  return painted(width, height, (x) => x < width / 3 ? RED : x < 2 * width / 3 ? GREEN : BLUE);
}

export async function png(image: ImageData): Promise<Uint8Array<ArrayBuffer>> {
  await codecs();
  return new Uint8Array(await encodePng(image));
}

export async function jpeg(image: ImageData, quality = 95): Promise<Uint8Array<ArrayBuffer>> {
  await codecs();
  return new Uint8Array(await encodeJpeg(image, { quality }));
}

/** Decodes a PNG, JPEG, WebP, AVIF, GIF or BMP (as stored: no EXIF orientation, irot or imir). */
export async function decode(bytes: Uint8Array): Promise<ImageData> {
  await codecs();
  const buffer = bytes.slice().buffer;
  const magic = new TextDecoder().decode(bytes.subarray(0, 12));
  const other = magic.startsWith("RIFF")
    ? await decodeWebp(bytes)
    : magic.slice(4, 8) === "ftyp"
    ? await decodeAvif(bytes)
    : magic.startsWith("GIF8")
    ? decodeGifFrame(firstGifFrame(bytes).bytes)
    : magic.startsWith("BM")
    ? await decodeBmp(bytes)
    : undefined;
  if (other) return new ImageData(other.data, other.width, other.height);
  return bytes[0] === 0x89 ? await decodePng(buffer) : await decodeJpeg(buffer);
}

/**
 * `good` (a PNG) with its image data replaced by garbage in whole chunks
 * whose CRCs hold: not damaged, so the decoder itself refuses it (601).
 */
export function undecodablePng(good: Uint8Array): Uint8Array<ArrayBuffer> {
  // The signature and IHDR are the first 33 bytes.
  return concat([
    good.subarray(0, 33),
    pngChunk("IDAT", new Uint8Array(1000).fill(0x55)),
    pngChunk("IEND", new Uint8Array(0)),
  ]);
}

/** The colour at x,y. */
export function pixel(image: ImageData, x: number, y: number): Rgba {
  const at = (y * image.width + x) * 4;
  return [...image.data.subarray(at, at + 4)] as Rgba;
}

/** Whether two colours differ by at most `tolerance` per channel. */
export function near(a: Rgba, b: Rgba, tolerance = 40): boolean {
  return a.every((v, i) => Math.abs(v - b[i]) <= tolerance);
}

/** What {@linkcode assertImage} checks; whatever is left out is not checked. */
export interface ImageExpectation {
  width?: number;
  height?: number;
  /** The format its header names. */
  format?: SourceFormat;
  /** The colour at the centre: GREEN for a real result made from {@linkcode thirds}, PLACEHOLDER_GREY for a placeholder. */
  centre?: Rgba;
  /** Per channel, for `centre`; default 40 (lossy codecs), 0 for exact. */
  tolerance?: number;
}

/** How `bytes` differ from `expected`, or undefined when they match. */
export async function imageMismatch(bytes: Uint8Array, expected: ImageExpectation): Promise<string | undefined> {
  if (expected.format !== undefined) {
    const format = readHeader(bytes, true).format;
    if (format !== expected.format) return `format is ${format}, expected ${expected.format}`;
  }
  const image = await decode(bytes);
  const { width = image.width, height = image.height } = expected;
  if (image.width !== width || image.height !== height) {
    return `size is ${image.width}x${image.height}, expected ${width}x${height}`;
  }
  if (expected.centre) {
    const centre = pixel(image, image.width >> 1, image.height >> 1);
    if (!near(centre, expected.centre, expected.tolerance)) {
      return `centre is ${centre}, expected about ${expected.centre}`;
    }
  }
  return undefined;
}

/**
 * Asserts that `bytes` are an image as `expected`: the real result, not the
 * placeholder, when `centre` is the source's centre colour.
 *
 * @example
 * ```ts
 * await assertImage(await Deno.readFile(out), { width: 90, height: 60, format: "png", centre: GREEN });
 * ```
 */
export async function assertImage(bytes: Uint8Array, expected: ImageExpectation, message = ""): Promise<void> {
  const mismatch = await imageMismatch(bytes, expected);
  if (mismatch) throw new Error(message ? `${message}: ${mismatch}` : mismatch);
}

/** Whether `bytes` are an image as `expected`; see {@linkcode assertImage}. */
export async function isImage(bytes: Uint8Array, expected: ImageExpectation): Promise<boolean> {
  return await imageMismatch(bytes, expected) === undefined;
}

/** A JPEG with an EXIF APP1 segment carrying `orientation`, inserted after SOI. */
export function withOrientation(jpegBytes: Uint8Array, orientation: number): Uint8Array<ArrayBuffer> {
  // Big-endian TIFF header, one IFD with one SHORT entry: Orientation.
  const tiff = [
    0x4d,
    0x4d,
    0x00,
    0x2a,
    0x00,
    0x00,
    0x00,
    0x08,
    0x00,
    0x01,
    0x01,
    0x12,
    0x00,
    0x03,
    0x00,
    0x00,
    0x00,
    0x01,
    0x00,
    orientation,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
  ];
  const payload = [0x45, 0x78, 0x69, 0x66, 0x00, 0x00, ...tiff];
  const length = payload.length + 2;
  const app1 = [0xff, 0xe1, length >> 8, length & 0xff, ...payload];
  const out = new Uint8Array(jpegBytes.length + app1.length);
  out.set(jpegBytes.subarray(0, 2));
  out.set(app1, 2);
  out.set(jpegBytes.subarray(2), 2 + app1.length);
  return out;
}
