import { assert_ as assert, assertEquals, assertThrows } from "../helpers/assert.ts";
import encodeJsquash from "@jsquash/jpeg/encode.js";
import { encodeJpegRgba } from "../../workers/ops/jpeg_encode.ts";
import { codecs, decode, painted, type Rgba } from "../helpers/images.ts";
import { decodeJpegScaled } from "../../workers/ops/jpeg_scaled.ts";
import { fromImageData } from "../../workers/ops/pixels.ts";
import { psnr } from "../helpers/tools.ts";

const PHOTOS = "/usr/share/backgrounds/mate/nature";

/** The pixels of a photo at 1/2 scale: what a 1280 output of a 2560x1600 photo looks like to the encoder. */
async function photo(name: string, minWidth: number): Promise<ImageData> {
  await codecs();
  const image = decodeJpegScaled(await Deno.readFile(`${PHOTOS}/${name}`), minWidth, 1);
  return new ImageData(image.data, image.width, image.height);
}

/** Every n-th pixel: sizes that are not multiples of the 16x16 MCU, with the photo's detail. */
function sampled(image: ImageData, width: number, height: number): ImageData {
  return painted(width, height, (x, y) => {
    const at = (Math.floor(y * image.height / height) * image.width + Math.floor(x * image.width / width)) * 4;
    return Array.from(image.data.subarray(at, at + 4)) as Rgba;
  });
}

async function sameAsPackage(image: ImageData, quality: number): Promise<void> {
  const ours = encodeJpegRgba(fromImageData(image), quality);
  const theirs = new Uint8Array(await encodeJsquash(image, { quality, progressive: false }));
  assertEquals(ours.length, theirs.length, `${image.width}x${image.height} q${quality}: sizes differ`);
  assert(ours.every((b, i) => b === theirs[i]), `${image.width}x${image.height} q${quality}: bytes differ`);
}

Deno.test("our MozJPEG build writes the same bytes as @jsquash/jpeg's, photos at 1280 px and thumbnail sizes", async () => {
  for (const name of ["LadyBird.jpg", "Dune.jpg", "Garden.jpg"]) {
    const large = await photo(name, 1280);
    assert(large.width >= 1280, `${name} decoded at ${large.width}`);
    await sameAsPackage(large, 80);
    for (const [width, height, quality] of [[200, 120, 80], [333, 211, 92], [400, 300, 30], [17, 9, 80]]) {
      await sameAsPackage(sampled(large, width, height), quality);
    }
  }
});

Deno.test("a JPEG our encoder writes decodes to the photo's pixels", async () => {
  const image = sampled(await photo("TwoWings.jpg", 640), 640, 400);
  const back = await decode(encodeJpegRgba(fromImageData(image), 90));
  assertEquals([back.width, back.height], [640, 400]);
  const db = psnr(image, back);
  assert(db > 30, `PSNR ${db.toFixed(1)} dB`);
});

Deno.test("a size libjpeg refuses throws its message, and the next encode is whole", async () => {
  await codecs();
  const wide = painted(65600, 1, () => [10, 20, 30, 255]);
  const refused = assertThrows(() => encodeJpegRgba(fromImageData(wide), 80), Error);
  assert(refused.message.includes("65500"), refused.message);
  const small = painted(48, 32, (x) => x < 24 ? [255, 0, 0, 255] : [0, 0, 255, 255]);
  const back = await decode(encodeJpegRgba(fromImageData(small), 90));
  assertEquals([back.width, back.height], [48, 32]);
  assert(back.data[0] > 200 && back.data[2] < 60, "left is red");
  await sameAsPackage(small, 90);
});
