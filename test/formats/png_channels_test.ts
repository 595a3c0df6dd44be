import { assert, assertEquals } from "../helpers/assert.ts";
import { decode, pixel } from "../helpers/images.ts";
import { rasterizeJob, resizeJob } from "../helpers/jobs.ts";
import { serve, tempDir, type TestServer } from "../helpers/server.ts";
import { halfRedPng, magickPixels, psnr, tool } from "../helpers/tools.ts";

const PHOTO = "/usr/share/backgrounds/mate/nature/Garden.jpg";

/** Runs a job from the file at `src` to a PNG at `dst` and returns the PNG. */
async function pngResult(
  imgserve: TestServer,
  operation: "resize" | "rasterize",
  src: string,
  dst: string,
  args: Record<string, unknown>,
) {
  const reply = await imgserve.post(
    (operation === "resize" ? resizeJob : rasterizeJob)(`file://${src}`, `file://${dst}`, args),
  );
  assertEquals(reply.status, 202, JSON.stringify(reply.json));
  const done = await imgserve.finished(reply.json.id as string);
  assertEquals(done.state, "done", JSON.stringify(done));
  return await Deno.readFile(dst);
}

/** The PNG's IHDR colour type (0 grey, 2 RGB, 4 grey and alpha, 6 RGBA), also as ImageMagick (libpng) reads it. */
async function assertColourType(path: string, expected: number, what: string): Promise<void> {
  assertEquals((await Deno.readFile(path))[25], expected, `${what}: IHDR colour type`);
  const out = await new Deno.Command("identify", { args: ["-format", "%[png:IHDR.color-type-orig]", path] }).output();
  assert(out.success, new TextDecoder().decode(out.stderr));
  assertEquals(Number(new TextDecoder().decode(out.stdout)), expected, `${what}: colour type for ImageMagick`);
}

Deno.test("a JPEG photo resized to PNG is RGB without alpha, a grey JPEG grey, with the photo's pixels", async () => {
  await using dir = await tempDir();
  await using imgserve = await serve();
  await Deno.copyFile(PHOTO, `${dir.path}/photo.jpg`);
  await tool("convert", [PHOTO, "-resize", "640x", "-colorspace", "Gray", "-quality", "92", `${dir.path}/grey.jpg`]);
  for (const [name, type] of [["photo", 2], ["grey", 0]] as const) {
    const src = `${dir.path}/${name}.jpg`, dst = `${dir.path}/${name}.png`;
    const bytes = await pngResult(imgserve, "resize", src, dst, { width: 320, format: "png" });
    await assertColourType(dst, type, name);
    const result = await magickPixels(dst);
    const db = psnr(result, await magickPixels(src, "-resize", "320x"));
    assert(db > 30, `${name}: PSNR ${db.toFixed(1)} dB against ImageMagick's resize`);
    // At most three bytes a pixel: under what the RGBA the photo gave before would take.
    assert(bytes.length < result.width * result.height * 3, `${name}: ${bytes.length} bytes`);
  }
});

Deno.test("a PNG whose alpha channel is all opaque loses it; one with transparency keeps it, grey or colour", async () => {
  await using dir = await tempDir();
  await using imgserve = await serve();
  await tool("convert", [PHOTO, "-resize", "320x", `PNG32:${dir.path}/opaque.png`]);
  assertEquals((await Deno.readFile(`${dir.path}/opaque.png`))[25], 6, "the opaque source has alpha");
  await halfRedPng(`${dir.path}/red.png`);
  await tool("convert", [
    ...["-size", "64x32", "xc:none", "-fill", "gray40", "-draw", "rectangle 0,0 31,31"],
    `PNG32:${dir.path}/grey.png`,
  ]);
  const run = (name: string, args: Record<string, unknown>) =>
    pngResult(imgserve, "resize", `${dir.path}/${name}.png`, `${dir.path}/${name}-out.png`, args);
  await run("opaque", { width: 160 });
  await assertColourType(`${dir.path}/opaque-out.png`, 2, "opaque RGBA source");
  for (const [name, type, colour] of [["red", 6, [255, 0, 0]], ["grey", 4, [102, 102, 102]]] as const) {
    // At the source's size: the pixels come back exactly.
    const bytes = await run(name, { width: 64 });
    await assertColourType(`${dir.path}/${name}-out.png`, type, name);
    const image = await decode(bytes);
    assertEquals(pixel(image, 8, 16), [...colour, 255], `${name}: left half`);
    assertEquals(pixel(image, 56, 16)[3], 0, `${name}: right half transparent`);
  }
});

Deno.test("an SVG keeps alpha where its background is transparent, and drops it where the drawing covers it", async () => {
  await using dir = await tempDir();
  await using imgserve = await serve();
  const svg = (background: string) =>
    `<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64">${background}` +
    `<circle cx="32" cy="32" r="16" fill="#0000ff"/></svg>`;
  await Deno.writeTextFile(`${dir.path}/clear.svg`, svg(""));
  await Deno.writeTextFile(`${dir.path}/filled.svg`, svg(`<rect width="64" height="64" fill="#ffcc00"/>`));
  const run = (name: string) =>
    pngResult(imgserve, "rasterize", `${dir.path}/${name}.svg`, `${dir.path}/${name}.png`, { width: 64 });
  const clear = await run("clear");
  await assertColourType(`${dir.path}/clear.png`, 6, "transparent background");
  const image = await decode(clear);
  assertEquals(pixel(image, 2, 2)[3], 0, "corner transparent");
  assertEquals(pixel(image, 32, 32), [0, 0, 255, 255], "centre blue");
  const filled = await run("filled");
  await assertColourType(`${dir.path}/filled.png`, 2, "opaque background");
  assertEquals(pixel(await decode(filled), 2, 2), [255, 204, 0, 255], "corner");
});
