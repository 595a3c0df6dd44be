/**
 * The codecs only some jobs need (WebP, AVIF, BMP): compiled once in
 * the pool with the others, but instantiated in a worker only when its
 * first job needs one, so a format no job uses costs no memory or start-up
 * time in the workers. Each Emscripten codec is given the compiled module,
 * so nothing is read or compiled again.
 *
 * @module
 */
import type { LazyModules } from "../protocol/work.ts";
import webpDecFactory from "@jsquash/webp/codec/dec/webp_dec.js";
import webpEncFactory from "@jsquash/webp/codec/enc/webp_enc_simd.js";
import avifDecFactory from "@jsquash/avif/codec/dec/avif_dec.js";
import avifEncFactory from "@jsquash/avif/codec/enc/avif_enc.js";
import type { EncodeOptions as WebpOptions } from "@jsquash/webp/codec/enc/webp_enc.d.ts";
import type { EncodeOptions as AvifOptions } from "@jsquash/avif/codec/enc/avif_enc.d.ts";
import instantiateLcms from "lcms-wasm/dist/lcms.js";
import type { Pixels } from "./ops/pixels.ts";

async function compile(specifier: string): Promise<WebAssembly.Module> {
  return await WebAssembly.compile(await Deno.readFile(new URL(import.meta.resolve(specifier))));
}

/** Compiles the optional codecs (in the pool, once). */
export async function compileLazyCodecs(): Promise<LazyModules> {
  const [webpDec, webpEnc, avifDec, avifEnc, bmp, lcms] = await Promise.all([
    compile("@jsquash/webp/codec/dec/webp_dec.wasm"),
    compile("@jsquash/webp/codec/enc/webp_enc_simd.wasm"),
    compile("@jsquash/avif/codec/dec/avif_dec.wasm"),
    compile("@jsquash/avif/codec/enc/avif_enc.wasm"),
    compile("@cwasm/nsbmp/nsbmp.wasm"),
    compile("lcms-wasm/dist/lcms.wasm"),
  ]);
  return { webpDec, webpEnc, avifDec, avifEnc, bmp, lcms };
}

let modules: LazyModules | undefined;
const instances = new Map<string, Promise<unknown>>();

/** Keeps the compiled modules; nothing is instantiated yet. */
export function setLazyModules(m: LazyModules): void {
  modules = m;
  instances.clear();
}

function lazy<T>(name: keyof LazyModules, make: (module: WebAssembly.Module) => Promise<T>): Promise<T> {
  if (!modules) return Promise.reject(new Error(`the ${name} codec is not loaded`));
  let instance = instances.get(name) as Promise<T> | undefined;
  if (!instance) {
    instance = make(modules[name]);
    instances.set(name, instance);
  }
  return instance;
}

/** The LittleCMS instance (lcms-wasm's API object), made on first use. */
// deno-lint-ignore no-explicit-any
export function lcms(): Promise<any> {
  return lazy("lcms", (m) => emscripten(instantiateLcms as unknown as Factory, m));
}

/** Drops an instance whose memory may be corrupt (after a throw), so the next use starts afresh. */
export function drop(name: keyof LazyModules): void {
  instances.delete(name);
}

// deno-lint-ignore no-explicit-any
type Factory = (options: Record<string, unknown>) => Promise<any>;

function emscripten(factory: Factory, module: WebAssembly.Module) {
  return factory({
    noInitialRun: true,
    instantiateWasm: (imports: WebAssembly.Imports, done: (i: WebAssembly.Instance) => void) => {
      const instance = new WebAssembly.Instance(module, imports);
      done(instance);
      return instance.exports;
    },
  });
}

async function guarded<T>(name: keyof LazyModules, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    drop(name);
    throw err;
  }
}

function pixelsOf(image: { data: ArrayLike<number>; width: number; height: number }): Pixels {
  const data = image.data instanceof Uint8ClampedArray
    ? image.data as Uint8ClampedArray<ArrayBuffer>
    : new Uint8ClampedArray(image.data as ArrayLike<number>);
  return { data, width: image.width, height: image.height };
}

/** WebP (lossy, lossless, alpha) to RGBA. */
export function decodeWebp(bytes: Uint8Array): Promise<Pixels> {
  return guarded("webpDec", async () => {
    const codec = await lazy("webpDec", (m) => emscripten(webpDecFactory as unknown as Factory, m));
    const image = codec.decode(bytes);
    if (!image) throw new Error("the WebP decoder rejected the data as corrupt");
    return pixelsOf(image);
  });
}

/** AVIF (8-bit output) to RGBA, as stored: irot/imir are not applied. */
export function decodeAvif(bytes: Uint8Array): Promise<Pixels> {
  return guarded("avifDec", async () => {
    const codec = await lazy("avifDec", (m) => emscripten(avifDecFactory as unknown as Factory, m));
    const image = codec.decode(bytes, 8);
    if (!image) throw new Error("the AVIF decoder rejected the data as corrupt");
    return pixelsOf(image);
  });
}

/** RGBA to WebP. */
export function encodeWebp(pixels: Pixels, options: Partial<WebpOptions>): Promise<ArrayBuffer> {
  return guarded("webpEnc", async () => {
    const codec = await lazy("webpEnc", (m) => emscripten(webpEncFactory as unknown as Factory, m));
    const out = codec.encode(pixels.data, pixels.width, pixels.height, { ...WEBP_DEFAULTS, ...options });
    if (!out) throw new Error("the WebP encoder failed");
    return (out as Uint8Array).slice().buffer as ArrayBuffer;
  });
}

/** RGBA to AVIF (8-bit). */
export function encodeAvif(pixels: Pixels, options: Partial<AvifOptions>): Promise<ArrayBuffer> {
  return guarded("avifEnc", async () => {
    const codec = await lazy("avifEnc", (m) => emscripten(avifEncFactory as unknown as Factory, m));
    const data = new Uint8Array(pixels.data.buffer, pixels.data.byteOffset, pixels.data.byteLength);
    const out = codec.encode(data, pixels.width, pixels.height, { ...AVIF_DEFAULTS, ...options });
    if (!out) throw new Error("the AVIF encoder failed");
    return (out as Uint8Array).slice().buffer as ArrayBuffer;
  });
}

/** libwebp's WebPConfig defaults, as @jsquash/webp's meta.js has them. */
const WEBP_DEFAULTS: WebpOptions = {
  quality: 75,
  target_size: 0,
  target_PSNR: 0,
  method: 4,
  sns_strength: 50,
  filter_strength: 60,
  filter_sharpness: 0,
  filter_type: 1,
  partitions: 0,
  segments: 4,
  pass: 1,
  show_compressed: 0,
  preprocessing: 0,
  autofilter: 0,
  partition_limit: 0,
  alpha_compression: 1,
  alpha_filtering: 1,
  alpha_quality: 100,
  lossless: 0,
  exact: 0,
  image_hint: 0,
  emulate_jpeg_size: 0,
  thread_level: 0,
  low_memory: 0,
  near_lossless: 100,
  use_delta_palette: 0,
  use_sharp_yuv: 0,
};

/** @jsquash/avif's defaults. */
const AVIF_DEFAULTS: AvifOptions = {
  quality: 50,
  qualityAlpha: -1,
  denoiseLevel: 0,
  tileColsLog2: 0,
  tileRowsLog2: 0,
  speed: 6,
  subsample: 1,
  chromaDeltaQ: false,
  sharpness: 0,
  tune: 0,
  enableSharpYUV: false,
  bitDepth: 8,
};

interface BmpExports {
  memory: WebAssembly.Memory;
  malloc(size: number): number;
  free(pointer: number): void;
  decode_bmp(out: number, width: number, height: number, input: number, size: number): number;
}

function bmpInstance(module: WebAssembly.Module): BmpExports {
  const refuse = (name: string) => () => {
    throw new Error(`${name} is not available (corrupt or unsupported image)`);
  };
  return new WebAssembly.Instance(module, {
    env: { setjmp: () => 0, longjmp: refuse("longjmp") },
    wasi_snapshot_preview1: {
      proc_exit: refuse("proc_exit"),
      fd_close: refuse("fd_close"),
      fd_seek: refuse("fd_seek"),
      fd_write: refuse("fd_write"),
    },
  }).exports as unknown as BmpExports;
}

/** libnsbmp's refusal, with its result code. */
export class BmpDecodeError extends Error {
  constructor(readonly result: number) {
    super("the BMP decoder rejected the data as corrupt");
  }

  /** The data ended before the image did: libnsbmp's BMP_INSUFFICIENT_DATA. */
  get cut(): boolean {
    return this.result === 2;
  }
}

/**
 * A BMP to RGBA, by the NetSurf decoder (libnsbmp) through its one C entry
 * point, as @cwasm's CommonJS wrapper calls it (that reads the .wasm with
 * `fs` at import, so it is not used).
 */
export function decodeBmp(bytes: Uint8Array): Promise<Pixels> {
  return guarded("bmp", async () => {
    const e = await lazy("bmp", (m) => Promise.resolve(bmpInstance(m)));
    const input = e.malloc(bytes.byteLength);
    const meta = e.malloc(12);
    if (!input || !meta) throw new Error("the BMP decoder ran out of memory");
    try {
      new Uint8Array(e.memory.buffer, input, bytes.byteLength).set(bytes);
      const result = e.decode_bmp(meta, meta + 4, meta + 8, input, bytes.byteLength);
      if (result !== 0) throw new BmpDecodeError(result);
      const [out, width, height] = new Uint32Array(e.memory.buffer, meta, 3);
      const data = new Uint8ClampedArray(width * height * 4);
      data.set(new Uint8Array(e.memory.buffer, out, data.length));
      e.free(out);
      return { data, width, height };
    } finally {
      e.free(meta);
      e.free(input);
    }
  });
}
