import { assertEquals } from "../helpers/assert.ts";
import { placeholderFor } from "../../src/image/placeholder.ts";
import { readHeader } from "../../src/image/header.ts";
import { decode, pixel } from "../helpers/images.ts";
import { tempDir } from "../helpers/server.ts";

for (const format of ["png", "jpeg", "webp", "avif"] as const) {
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
  for (const format of ["png", "jpeg", "webp", "avif", "gif"] as const) {
    const bytes = await placeholderFor(format, 16384, 16384);
    assertEquals([readHeader(bytes, true).width, readHeader(bytes, true).height], [16384, 16384]);
    assertEquals(bytes.length < 2_000_000, true, format);
  }
});

Deno.test("WebP and AVIF placeholders decode with libwebp's and libavif's own tools", async () => {
  await using dir = await tempDir();
  for (const [format, tool] of [["webp", "dwebp"], ["avif", "avifdec"]] as const) {
    await Deno.writeFile(`${dir.path}/p.${format}`, await placeholderFor(format, 1025, 513));
    const args = format === "webp" ? [`${dir.path}/p.webp`, "-o", `${dir.path}/p.png`] : [
      `${dir.path}/p.avif`,
      `${dir.path}/p.png`,
    ];
    const { success } = await new Deno.Command(tool, { args, stdout: "null", stderr: "null" }).output();
    assertEquals(success, true, tool);
    const image = await decode(await Deno.readFile(`${dir.path}/p.png`));
    assertEquals([image.width, image.height], [1025, 513]);
    assertEquals(pixel(image, 1024, 512), [128, 128, 128, 255]);
  }
});

Deno.test("the GIF placeholder is one flat grey frame of exactly the asked size, as ImageMagick reads it", async () => {
  await using dir = await tempDir();
  for (const [width, height] of [[1, 1], [203, 121], [3000, 2900]]) {
    const bytes = await placeholderFor("gif", width, height);
    assertEquals(readHeader(bytes, true).format, "gif");
    await Deno.writeFile(`${dir.path}/p.gif`, bytes);
    const { stdout } = await new Deno.Command("identify", {
      args: ["-format", "%w %h %[fx:mean*255] %[fx:standard_deviation]\n", `${dir.path}/p.gif`],
    }).output();
    assertEquals(new TextDecoder().decode(stdout).trim(), `${width} ${height} 128 0`);
  }
});
