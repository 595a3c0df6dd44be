/**
 * The resampler's WebAssembly loops against the @jsquash/resize codec's
 * Lanczos3, on a photo: a result too wide for the resampler's memory is
 * made in bands of columns that join without a seam, in that memory.
 */
import decodeJpeg from "@jsquash/jpeg/decode.js";
import resize from "@jsquash/resize";
import { assert } from "../helpers/assert.ts";
import { codecs } from "../helpers/images.ts";
import { psnr } from "../helpers/tools.ts";
import { lanczos3 } from "../../workers/ops/lanczos.ts";
import { trackWasmMemories, wasmMemoryBytes } from "../../workers/wasm_memory.ts";
import { RESAMPLE_BAND_BYTES, RESAMPLE_START_BYTES } from "../../protocol/plan_memory.ts";

const PHOTO = "/usr/share/backgrounds/mate/nature/LadyBird.jpg";

/** Columns `x0` to `x0 + width` of an image. */
function columns(image: { data: ArrayLike<number>; width: number; height: number }, x0: number, width: number) {
  const data = new Uint8ClampedArray(width * image.height * 4);
  for (let y = 0; y < image.height; y++) {
    for (let i = 0; i < width * 4; i++) data[(y * width) * 4 + i] = image.data[(y * image.width + x0) * 4 + i];
  }
  return { data, width, height: image.height };
}

Deno.test("a result wider than the resampler's memory is made in bands that join without a seam", async () => {
  await codecs();
  const full = await decodeJpeg((await Deno.readFile(PHOTO)).buffer, { preserveOrientation: true });
  const strip = { x: 0, y: 700, width: full.width, height: 64 };
  const source = new ImageData(full.data.slice(700 * full.width * 4, 764 * full.width * 4), full.width, 64);
  trackWasmMemories();
  // Three times wider: 7680 columns of 7 taps, more than one band.
  const ours = lanczos3(
    { data: full.data as Uint8ClampedArray<ArrayBuffer>, width: full.width, height: full.height },
    strip,
    full.width * 3,
    192,
    false,
  );
  assert(
    wasmMemoryBytes() <= RESAMPLE_START_BYTES + RESAMPLE_BAND_BYTES,
    `the resampler holds ${wasmMemoryBytes()} bytes`,
  );
  const reference = await resize(source, {
    width: full.width * 3,
    height: 192,
    method: "lanczos3",
    premultiply: false,
    linearRGB: true,
  });
  assert(psnr(ours, reference) >= 45, `${psnr(ours, reference).toFixed(1)} dB over the whole result`);
  // A seam would be a stripe of columns far from the reference: every 24 columns of the result stay close.
  for (let x = 0; x + 24 <= ours.width; x += 12) {
    const db = psnr(columns(ours, x, 24), columns(reference, x, 24));
    assert(db >= 38, `columns ${x}-${x + 24}: ${db.toFixed(1)} dB`);
  }
});

Deno.test("an opaque image filtered with alpha (premultiplied, four channels) comes out as in three", async () => {
  await codecs();
  const full = await decodeJpeg((await Deno.readFile(PHOTO)).buffer, { preserveOrientation: true });
  const pixels = { data: full.data as Uint8ClampedArray<ArrayBuffer>, width: full.width, height: full.height };
  const rect = { x: 0, y: 0, width: full.width, height: full.height };
  const three = lanczos3(pixels, rect, 1280, 800, false);
  const four = lanczos3(pixels, rect, 1280, 800, true);
  assert(psnr(three, four) >= 60, `${psnr(three, four).toFixed(1)} dB`);
  for (let i = 3; i < four.data.length; i += 4) assert(four.data[i] === 255, `alpha ${four.data[i]} at ${i >> 2}`);
});
