/**
 * JPEG decoding at a reduced scale (n/8) with libjpeg-turbo's TurboJPEG API,
 * from our wasm build of it (codecs/build_jpeg_turbo.sh). Skipping most of the inverse
 * DCT work is the largest single saving for thumbnails: a 2560x1600 photo
 * decodes at 1/4 in a quarter of the full-size time, and the pixels that
 * follow are 16 times fewer.
 *
 * The exported C functions are called directly. The pixels come out as
 * stored: EXIF orientation is not applied here.
 *
 * @module
 */
import type { Pixels } from "./pixels.ts";
import { scaleEighths } from "../../protocol/decode_scale.ts";

interface TurboExports {
  memory: WebAssembly.Memory;
  malloc(size: number): number;
  free(pointer: number): void;
  tjInitDecompress(): number;
  tjDestroy(handle: number): number;
  tjDecompressHeader3(
    handle: number,
    src: number,
    size: number,
    width: number,
    height: number,
    subsampling: number,
    colorspace: number,
  ): number;
  tjDecompress2(
    handle: number,
    src: number,
    size: number,
    dst: number,
    width: number,
    pitch: number,
    height: number,
    pixelFormat: number,
    flags: number,
  ): number;
}

const TJPF_RGBA = 7;
/** Four bytes a pixel as the JPEG stores them: CMYK (YCCK is turned into CMYK), Adobe inversion untouched. */
export const TJPF_CMYK = 11;

let compiled: WebAssembly.Module | undefined;
let turbo: TurboExports | undefined;

function instantiate(module: WebAssembly.Module): TurboExports {
  const refuse = (name: string) => () => {
    throw new Error(`libjpeg-turbo: ${name} is not available`);
  };
  // libjpeg reports fatal errors by longjmp; with no setjmp support that
  // becomes a JS throw out of the wasm call, which is what we want.
  const instance = new WebAssembly.Instance(module, {
    env: {
      setjmp: () => 0,
      longjmp: refuse("longjmp (corrupt or unsupported JPEG)"),
      // Emscripten tells the host when memory grows; views are made afresh from memory.buffer, so nothing to do.
      emscripten_notify_memory_growth: () => {},
    },
    wasi_snapshot_preview1: {
      environ_sizes_get: () => 0,
      environ_get: refuse("environ_get"),
      proc_exit: refuse("proc_exit"),
      fd_close: refuse("fd_close"),
      fd_seek: refuse("fd_seek"),
      fd_write: refuse("fd_write"),
    },
  });
  return instance.exports as unknown as TurboExports;
}

/** Instantiates the compiled libjpeg-turbo module in this realm. */
export function initJpegScaled(module: WebAssembly.Module): void {
  compiled = module;
  turbo = instantiate(module);
}

/** Makes libjpeg-turbo afresh, so the memory its last decode grew can be collected. */
export function resetJpegScaled(): void {
  if (compiled) turbo = instantiate(compiled);
}

/** A scaled decode's pixels and the factor they were decoded at. */
export interface ScaledPixels extends Pixels {
  /** n/8 for n in 1..8. */
  scale: number;
  /** libjpeg-turbo warned while decoding: the data is damaged. */
  warned?: boolean;
}

/**
 * Decodes a JPEG to RGBA at the smallest n/8 scale that keeps the stored
 * image at least `minWidth` x `minHeight`. Throws on anything libjpeg-turbo
 * refuses; callers fall back to a full decode. Data it decoded only with a
 * warning (cut short, corrupt entropy-coded data) comes back with
 * `warned` set: TurboJPEG then finishes the decode, filling what is
 * missing with grey, and returns -1 without the longjmp its errors take.
 *
 * @example
 * ```ts
 * const small = decodeJpegScaled(bytes, 400, 240); // stored orientation
 * ```
 */
export function decodeJpegScaled(
  bytes: Uint8Array,
  minWidth: number,
  minHeight: number,
  pixelFormat = TJPF_RGBA,
): ScaledPixels {
  if (!turbo || !compiled) throw new Error("libjpeg-turbo is not initialised");
  const e = turbo;
  let src = 0, meta = 0, dst = 0, handle = 0;
  try {
    src = e.malloc(bytes.byteLength);
    if (!src) throw new Error("libjpeg-turbo: out of memory");
    new Uint8Array(e.memory.buffer, src, bytes.byteLength).set(bytes);
    handle = e.tjInitDecompress();
    if (!handle) throw new Error("libjpeg-turbo: tjInitDecompress failed");
    meta = e.malloc(16);
    if (e.tjDecompressHeader3(handle, src, bytes.byteLength, meta, meta + 4, meta + 8, meta + 12) !== 0) {
      throw new Error("libjpeg-turbo: the JPEG header is not readable");
    }
    const [storedWidth, storedHeight] = new Int32Array(e.memory.buffer, meta, 2);
    const n = scaleEighths(storedWidth, storedHeight, minWidth, minHeight);
    const width = Math.ceil(storedWidth * n / 8);
    const height = Math.ceil(storedHeight * n / 8);
    const size = width * height * 4;
    dst = e.malloc(size);
    if (!dst) throw new Error("libjpeg-turbo: out of memory");
    // The arguments are checked above, so -1 here (errors longjmp, which throws) can only be a warning.
    const warned = e.tjDecompress2(handle, src, bytes.byteLength, dst, width, width * 4, height, pixelFormat, 0) !== 0;
    // Copied out: the wasm heap is reused by the next decode.
    const data = new Uint8ClampedArray(size);
    data.set(new Uint8Array(e.memory.buffer, dst, size));
    return { data, width, height, scale: n / 8, warned };
  } catch (err) {
    // A throw through libjpeg leaves its heap in an unknown state: start a fresh instance.
    turbo = instantiate(compiled);
    throw err;
  } finally {
    if (turbo === e) {
      if (dst) e.free(dst);
      if (meta) e.free(meta);
      if (src) e.free(src);
      if (handle) e.tjDestroy(handle);
    }
  }
}
