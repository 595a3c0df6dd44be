/** encode: the output's pixels in the plan's format, then freed unless the source still needs them. */
import { encode } from "../../../workers/pipeline/encode.ts";
import { assert, assertEquals } from "../../helpers/assert.ts";
import { BLUE, codecs, decode, near, pixel, RED } from "../../helpers/images.ts";
import { decoded, pixelsOf, planOf, withPixels } from "./image.ts";

Deno.test("each format's bytes decode to the plan's size and colours", async () => {
  await codecs();
  for (const format of ["png", "jpeg", "webp", "avif"] as const) {
    const plan = planOf(48, 32, { format });
    const output = withPixels(plan, pixelsOf(48, 32, (x) => (x < 24 ? RED : BLUE)));
    await encode(output);
    const image = await decode(new Uint8Array(output.bytes!));
    assertEquals([image.width, image.height], [48, 32], format);
    assert(near(pixel(image, 4, 16), RED) && near(pixel(image, 44, 16), BLUE), `${format}: ${pixel(image, 4, 16)}`);
  }
});

Deno.test("an output's pixels are freed once encoded, but never the decoded source's", async () => {
  await codecs();
  // 300x300 RGBA is over the size worth freeing early.
  const plan = planOf(300, 300);
  const own = withPixels(plan, pixelsOf(300, 300, () => RED));
  const pixels = own.pixels!;
  await encode(own);
  assert(pixels.data.buffer.detached, "freed");
  const source = decoded(pixelsOf(300, 300, () => RED), plan);
  await encode(withPixels(plan, source.image, source));
  assertEquals(source.image.data.length, 300 * 300 * 4);
});
