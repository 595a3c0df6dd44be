/**
 * The WebAssembly codecs, compiled once from the files inside their npm
 * packages, or ours in codecs/ (nothing is fetched at run time, and
 * `deno compile` can carry them), and instantiated in each worker.
 *
 * @module
 */
import type { CodecModules } from "../protocol/work.ts";
import { init as initJpegDecode } from "@jsquash/jpeg/decode.js";
import { init as initJsquashJpegEncode } from "@jsquash/jpeg/encode.js";
import { init as initPngDecode } from "@jsquash/png/decode.js";
import { initResize } from "@jsquash/resize";
import { initJpegScaled } from "./ops/jpeg_scaled.ts";
import { initJpegEncode } from "./ops/jpeg_encode.ts";
import { initPngDecoder } from "./ops/png_decoder.ts";
import { compileLazyCodecs, setLazyModules } from "./lazy_codecs.ts";
import { noteJpegWarning } from "./ops/damage.ts";
import jpegTurboWasm from "./codecs/jpeg_turbo.wasm" with { type: "bytes" };
import mozjpegWasm from "./codecs/mozjpeg.wasm" with { type: "bytes" };

/** An Emscripten module's init as the packages' code takes it (their types leave out the module and options). */
type EmscriptenInit = (module: WebAssembly.Module, options: { printErr(line: string): void }) => Promise<void>;

async function compile(specifier: string): Promise<WebAssembly.Module> {
  const bytes = await Deno.readFile(new URL(import.meta.resolve(specifier)));
  return await WebAssembly.compile(bytes);
}

/** Compiles every codec. */
export async function compileCodecs(): Promise<CodecModules> {
  const [jpegDec, jpegEnc, jpegScaled, png, lazy] = await Promise.all([
    compile("@jsquash/jpeg/codec/dec/mozjpeg_dec.wasm"),
    WebAssembly.compile(mozjpegWasm),
    WebAssembly.compile(jpegTurboWasm),
    compile("@jsquash/png/codec/pkg/squoosh_png_bg.wasm"),
    compileLazyCodecs(),
  ]);
  return { jpegDec, jpegEnc, jpegScaled, png, lazy };
}

let jpegDecModule: WebAssembly.Module | undefined;

/** MozJPEG's decoder, instantiated from its compiled module. */
function initJpegDecoder(module: WebAssembly.Module): Promise<void> {
  jpegDecModule = module;
  // libjpeg prints a decode's first warning to standard error: that is how a damaged JPEG is told.
  return (initJpegDecode as EmscriptenInit)(module, { printErr: noteJpegWarning });
}

/** Makes MozJPEG's decoder afresh, so the memory its last decode grew can be collected. */
export async function resetJpegDecode(): Promise<void> {
  if (jpegDecModule) await initJpegDecoder(jpegDecModule);
}

/** Instantiates compiled codecs in this realm; resolves when all are ready. */
export async function initCodecs(m: CodecModules): Promise<void> {
  initJpegScaled(m.jpegScaled);
  initJpegEncode(m.jpegEnc);
  setLazyModules(m.lazy);
  await initJpegDecoder(m.jpegDec);
  initPngDecoder(m.png);
}

/**
 * Compiles and instantiates every codec in this realm, and the WebAssembly
 * Lanczos3 of `@jsquash/resize`: the workers resample in strips
 * (ops/lanczos.ts), the tests' reference and the bench's straightforward
 * pipeline with it.
 */
export async function loadCodecs(): Promise<void> {
  await Promise.all([
    initCodecs(await compileCodecs()),
    compile("@jsquash/resize/lib/resize/pkg/squoosh_resize_bg.wasm").then(initResize),
    // The tests decode results with the package's own glue.
    compile("@jsquash/png/codec/pkg/squoosh_png_bg.wasm").then(initPngDecode),
    // The package's MozJPEG encoder, whose bytes ours must match, makes the tests' JPEGs and the bench's naive
    // pipeline's; its warnings (tables too coarse for baseline at low qualities) go to standard error unless caught.
    compile("@jsquash/jpeg/codec/enc/mozjpeg_enc.wasm").then((module) =>
      (initJsquashJpegEncode as EmscriptenInit)(module, { printErr: () => {} })
    ),
  ]);
}
