/**
 * HEIC to RGBA pixels, by libheif with libde265 (the libheif-js package's
 * WebAssembly build), driven through libheif's C API. libheif is LGPL-3.0:
 * it stays a separate package, imported and compiled only when a worker's
 * first HEIC arrives, so a server that never sees one never loads it, and
 * the import map's `libheif-js/` entry can point at another build.
 *
 * The primary image is decoded as stored (`ignore_transformations`): its
 * grid's tiles put together and cropped, converted to 8-bit RGB by its
 * nclx matrix, `irot`/`imir` left to the pipeline's orient step as the
 * header read them, and its ICC profile to toSrgb. A decode that libheif
 * finishes only with warnings (a tile it could not decode) is damage.
 *
 * @module
 */
import type { Pixels } from "./pixels.ts";

/** libheif's C functions as Emscripten exports them (a struct result is written through the first pointer). */
interface Libheif {
  HEAPU8: Uint8Array;
  _malloc(size: number): number;
  _free(pointer: number): void;
  _heif_context_alloc(): number;
  _heif_context_free(context: number): void;
  _heif_context_read_from_memory_without_copy(error: number, context: number, at: number, size: number, _: 0): void;
  _heif_context_get_primary_image_handle(error: number, context: number, handleOut: number): void;
  _heif_image_handle_release(handle: number): void;
  _heif_decoding_options_alloc(): number;
  _heif_decoding_options_free(options: number): void;
  _heif_decode_image(
    error: number,
    handle: number,
    imageOut: number,
    colorspace: number,
    chroma: number,
    options: number,
  ): void;
  _heif_image_release(image: number): void;
  _heif_image_get_width(image: number, channel: number): number;
  _heif_image_get_height(image: number, channel: number): number;
  _heif_image_get_plane_readonly(image: number, channel: number, strideOut: number): number;
  _heif_image_get_decoding_warnings(image: number, first: number, out: number, max: number): number;
}

const COLORSPACE_RGB = 1;
const CHROMA_INTERLEAVED_RGBA = 11;
const CHANNEL_INTERLEAVED = 10;
/** heif_decoding_options (wasm32): version, then ignore_transformations; convert_hdr_to_8bit after four pointers. */
const IGNORE_TRANSFORMATIONS = 1;
const CONVERT_HDR_TO_8BIT = 20;
/** heif_error: code, subcode, message pointer. */
const ERROR_BYTES = 12;

/** libheif refused the data; `message` is its own, in a few words. */
export class HeicDecodeError extends Error {}

let instance: Promise<Libheif> | undefined;

async function load(): Promise<Libheif> {
  const { default: factory } = await import("libheif-js/libheif-wasm/libheif.js");
  const module = await WebAssembly.compile(
    await Deno.readFile(new URL(import.meta.resolve("libheif-js/libheif-wasm/libheif.wasm"))),
  );
  return await (factory as unknown as (options: Record<string, unknown>) => Promise<Libheif>)({
    noInitialRun: true,
    print: () => {},
    printErr: () => {},
    instantiateWasm: (imports: WebAssembly.Imports, done: (i: WebAssembly.Instance) => void) => {
      const made = new WebAssembly.Instance(module, imports);
      done(made);
      return made.exports;
    },
  });
}

/**
 * Drops the libheif instance, so the memory its last decode grew can be
 * collected (decoder_memory.ts) or memory a failure left suspect is not
 * used again; the next HEIC makes a fresh one.
 */
export function resetHeicDecoder(): void {
  instance = undefined;
}

/** A heif_error's message, when its code is not 0. */
function errorOf(m: Libheif, error: number): string | undefined {
  const view = new DataView(m.HEAPU8.buffer);
  if (view.getInt32(error, true) === 0) return undefined;
  const at = view.getUint32(error + 8, true);
  const end = m.HEAPU8.indexOf(0, at);
  const text = new TextDecoder().decode(m.HEAPU8.subarray(at, Math.min(end < 0 ? at : end, at + 160)));
  return text.replace(/[^\x20-\x7e]/g, "?") || "an unknown error";
}

/**
 * Decodes a HEIC's primary image as stored, to RGBA outside WebAssembly.
 * `warning` is libheif's first decoding warning, if any (see damage.ts).
 *
 * @example
 * ```ts
 * const { image, warning } = await decodeHeic(bytes);
 * ```
 */
export async function decodeHeic(bytes: Uint8Array): Promise<{ image: Pixels; warning?: string }> {
  instance ??= load();
  let m: Libheif;
  try {
    m = await instance;
  } catch (err) {
    instance = undefined;
    throw err;
  }
  try {
    return decodeWith(m, bytes);
  } catch (err) {
    // After a trap libheif's memory may be inconsistent: start afresh next time.
    if (!(err instanceof HeicDecodeError)) instance = undefined;
    throw err;
  }
}

function decodeWith(m: Libheif, bytes: Uint8Array): { image: Pixels; warning?: string } {
  const input = m._malloc(bytes.length);
  const scratch = m._malloc(ERROR_BYTES + 8);
  const [error, handleOut, imageOut] = [scratch, scratch + ERROR_BYTES, scratch + ERROR_BYTES + 4];
  const context = m._heif_context_alloc();
  const options = m._heif_decoding_options_alloc();
  let handle = 0, image = 0;
  try {
    if (!input || !scratch || !context || !options) throw new RangeError("libheif ran out of memory");
    m.HEAPU8.set(bytes, input);
    const check = () => {
      const why = errorOf(m, error);
      if (why !== undefined) throw new HeicDecodeError(why);
    };
    m._heif_context_read_from_memory_without_copy(error, context, input, bytes.length, 0);
    check();
    m._heif_context_get_primary_image_handle(error, context, handleOut);
    check();
    handle = new DataView(m.HEAPU8.buffer).getUint32(handleOut, true);
    m.HEAPU8[options + IGNORE_TRANSFORMATIONS] = 1;
    m.HEAPU8[options + CONVERT_HDR_TO_8BIT] = 1;
    m._heif_decode_image(error, handle, imageOut, COLORSPACE_RGB, CHROMA_INTERLEAVED_RGBA, options);
    check();
    image = new DataView(m.HEAPU8.buffer).getUint32(imageOut, true);
    const warning = m._heif_image_get_decoding_warnings(image, 0, error, 1) > 0
      ? errorOf(m, error) ?? "a part of it could not be decoded"
      : undefined;
    const width = m._heif_image_get_width(image, CHANNEL_INTERLEAVED);
    const height = m._heif_image_get_height(image, CHANNEL_INTERLEAVED);
    const plane = m._heif_image_get_plane_readonly(image, CHANNEL_INTERLEAVED, handleOut);
    if (!plane || width < 1 || height < 1) throw new HeicDecodeError("it decoded to no pixels");
    const stride = new DataView(m.HEAPU8.buffer).getInt32(handleOut, true);
    const data = new Uint8ClampedArray(width * height * 4);
    const row = width * 4;
    for (let y = 0; y < height; y++) data.set(m.HEAPU8.subarray(plane + y * stride, plane + y * stride + row), y * row);
    return { image: { data, width, height }, warning };
  } finally {
    if (image) m._heif_image_release(image);
    if (handle) m._heif_image_handle_release(handle);
    if (options) m._heif_decoding_options_free(options);
    if (context) m._heif_context_free(context);
    m._free(scratch);
    m._free(input);
  }
}
