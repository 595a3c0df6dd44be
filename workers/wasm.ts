/**
 * Loads the WebAssembly codecs once per worker from the files inside their
 * npm packages, so nothing is fetched at run time and `deno compile` can
 * carry them.
 *
 * @module
 */
import { init as initJpegDecode } from "@jsquash/jpeg/decode.js";
import { init as initJpegEncode } from "@jsquash/jpeg/encode.js";
import { init as initPngDecode } from "@jsquash/png/decode.js";
import { init as initPngEncode } from "@jsquash/png/encode.js";
import { initResize } from "@jsquash/resize";
import { initWasm as initResvg } from "@resvg/resvg-wasm";

async function compile(specifier: string): Promise<WebAssembly.Module> {
  const bytes = await Deno.readFile(new URL(import.meta.resolve(specifier)));
  return await WebAssembly.compile(bytes);
}

/** Compiles and instantiates every codec; resolves when all are ready. */
export async function loadCodecs(): Promise<void> {
  const [jpegDec, jpegEnc, png, resize, resvg] = await Promise.all([
    compile("@jsquash/jpeg/codec/dec/mozjpeg_dec.wasm"),
    compile("@jsquash/jpeg/codec/enc/mozjpeg_enc.wasm"),
    compile("@jsquash/png/codec/pkg/squoosh_png_bg.wasm"),
    compile("@jsquash/resize/lib/resize/pkg/squoosh_resize_bg.wasm"),
    compile("@resvg/resvg-wasm/index_bg.wasm"),
  ]);
  await Promise.all([
    initJpegDecode(jpegDec),
    initJpegEncode(jpegEnc),
    initPngDecode(png),
    initPngEncode(png),
    initResize(resize),
    initResvg(resvg),
  ]);
}
