import { assertEquals } from "../helpers/assert.ts";
import { placeholderFor } from "../../src/image/placeholder.ts";
import { readHeader } from "../../src/image/header.ts";
import { decode, pixel } from "../helpers/images.ts";

for (const format of ["png", "jpeg"] as const) {
  Deno.test(`the ${format} placeholder decodes to flat grey of exactly the asked size`, async () => {
    const bytes = await placeholderFor(format, 203, 121);
    assertEquals(readHeader(bytes, true).format, format);
    const image = await decode(bytes);
    assertEquals([image.width, image.height], [203, 121]);
    assertEquals(pixel(image, 0, 0), [128, 128, 128, 255]);
    assertEquals(pixel(image, 202, 120), [128, 128, 128, 255]);
  });
}

Deno.test("a 16384x16384 placeholder stays small", async () => {
  const png = await placeholderFor("png", 16384, 16384);
  const jpeg = await placeholderFor("jpeg", 16384, 16384);
  assertEquals(readHeader(png, true).width, 16384);
  assertEquals(readHeader(jpeg, true).height, 16384);
  assertEquals(png.length < 2_000_000 && jpeg.length < 2_000_000, true);
});
