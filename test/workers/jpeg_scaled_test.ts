import { assert_ as assert, assertEquals, assertThrows } from "../helpers/assert.ts";
import { decodeJpegScaled } from "../../workers/ops/jpeg_scaled.ts";
import { codecs, decode, jpeg, painted, type Rgba } from "../helpers/images.ts";

/** Noise at quality 95: long Huffman codes and many bit-buffer refills, where a wrong refill shows at once. */
async function noisyJpeg(width: number, height: number): Promise<Uint8Array<ArrayBuffer>> {
  let seed = 12345;
  const next = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) >> 23;
  return await jpeg(painted(width, height, () => [next(), next(), next(), 255] as Rgba), 95);
}

function maxDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let most = 0;
  for (let i = 0; i < a.length; i++) most = Math.max(most, Math.abs(a[i] - b[i]));
  return most;
}

Deno.test("a noisy JPEG decodes at full scale to MozJPEG's pixels", async () => {
  await codecs();
  const bytes = await noisyJpeg(301, 203);
  const ours = decodeJpegScaled(bytes, 301, 203);
  const reference = await decode(bytes);
  assertEquals([ours.width, ours.height, ours.scale, ours.warned], [301, 203, 1, false]);
  assert(maxDifference(ours.data, reference.data) <= 1, `differs by ${maxDifference(ours.data, reference.data)}`);
});

Deno.test("every n/8 scale decodes a noisy JPEG whole, to the size asked for", async () => {
  await codecs();
  const bytes = await noisyJpeg(640, 480);
  for (let n = 1; n <= 8; n++) {
    const image = decodeJpegScaled(bytes, 640 * n / 8, 480 * n / 8);
    assertEquals([image.width, image.height, image.scale, image.warned], [640 * n / 8, 480 * n / 8, n / 8, false]);
    assert(image.data.every((v, i) => i % 4 !== 3 || v === 255), "opaque");
  }
});

Deno.test("a JPEG cut short decodes with a warning, and the next one decodes whole", async () => {
  await codecs();
  const bytes = await noisyJpeg(320, 240);
  const cut = decodeJpegScaled(bytes.subarray(0, bytes.length >> 1), 80, 60);
  assertEquals([cut.width, cut.height, cut.warned], [80, 60, true]);
  const whole = decodeJpegScaled(bytes, 80, 60);
  assertEquals(whole.warned, false);
});

Deno.test("a file that is not a JPEG is refused, and the decoder keeps working", async () => {
  await codecs();
  const bytes = await noisyJpeg(64, 48);
  assertThrows(() => decodeJpegScaled(new Uint8Array([0xff, 0xd8, 0xff, 0xc0, 0, 2, 1, 2, 3, 4]), 8, 8), Error);
  assertEquals(decodeJpegScaled(bytes, 8, 6).width, 8);
});
