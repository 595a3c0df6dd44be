/**
 * JPEG encoding with our WebAssembly build of MozJPEG (codecs/build_mozjpeg.sh):
 * the same bytes as `@jsquash/jpeg`'s encoder with its defaults but baseline,
 * in a little over half its time, mostly the trellis quantisation and the
 * Huffman statistics pass computed without their wasted loops.
 *
 * @module
 */
import type { Pixels } from "./pixels.ts";

interface MozJpegExports {
  memory: WebAssembly.Memory;
  _initialize(): void;
  malloc(size: number): number;
  free(pointer: number): void;
  encode_rgba(rgba: number, width: number, height: number, quality: number, size: number): number;
}

/** An encode whose memory grew past this is followed by a fresh instance, so one large result does not keep it. */
const KEEP_MEMORY_BYTES = 64 * 1024 * 1024;

let compiled: WebAssembly.Module | undefined;
let mozjpeg: MozJpegExports | undefined;

function instantiate(module: WebAssembly.Module): MozJpegExports {
  const heap: { memory?: WebAssembly.Memory } = {};
  const refuse = (name: string) => () => {
    throw new Error(`MozJPEG: ${name} is not available`);
  };
  const instance = new WebAssembly.Instance(module, {
    env: {
      // libjpeg's error_exit, with its message: the throw leaves the wasm call, and the instance is replaced.
      jpeg_failed: (message: number) => {
        const bytes = new Uint8Array(heap.memory!.buffer, message, 200);
        const end = bytes.indexOf(0);
        throw new Error(`MozJPEG: ${new TextDecoder().decode(bytes.subarray(0, end < 0 ? 200 : end))}`);
      },
      emscripten_notify_memory_growth: () => {},
    },
    wasi_snapshot_preview1: {
      proc_exit: refuse("proc_exit"),
      fd_close: refuse("fd_close"),
      fd_seek: refuse("fd_seek"),
      fd_write: refuse("fd_write"),
    },
  });
  const exports = instance.exports as unknown as MozJpegExports;
  heap.memory = exports.memory;
  exports._initialize();
  return exports;
}

/** Instantiates the compiled MozJPEG module in this realm. */
export function initJpegEncode(module: WebAssembly.Module): void {
  compiled = module;
  mozjpeg = instantiate(module);
}

/**
 * Encodes RGBA pixels (alpha ignored: flatten first) as a baseline JPEG at
 * `quality` (1-100). Throws with libjpeg's message on what it refuses, such
 * as a side over 65500.
 *
 * @example
 * ```ts
 * const bytes = encodeJpegRgba({ data, width: 200, height: 120 }, 80);
 * ```
 */
export function encodeJpegRgba(pixels: Pixels, quality: number): Uint8Array<ArrayBuffer> {
  if (!mozjpeg || !compiled) throw new Error("MozJPEG is not initialised");
  const e = mozjpeg;
  const { data, width, height } = pixels;
  let src = 0, size = 0, out = 0;
  try {
    src = e.malloc(data.byteLength);
    size = e.malloc(4);
    if (!src || !size) throw new Error("MozJPEG: out of memory");
    new Uint8Array(e.memory.buffer, src, data.byteLength).set(data);
    out = e.encode_rgba(src, width, height, quality, size);
    const length = new Uint32Array(e.memory.buffer, size, 1)[0];
    // Copied out: the heap is reused by the next encode.
    return new Uint8Array(e.memory.buffer, out, length).slice();
  } catch (err) {
    // A throw through libjpeg leaves its heap in an unknown state.
    mozjpeg = instantiate(compiled);
    throw err;
  } finally {
    if (mozjpeg === e) {
      if (out) e.free(out);
      if (size) e.free(size);
      if (src) e.free(src);
      if (e.memory.buffer.byteLength > KEEP_MEMORY_BYTES) mozjpeg = instantiate(compiled);
    }
  }
}
