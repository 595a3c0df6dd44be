import { assert, assertEquals } from "../helpers/assert.ts";
import { decode, pixel } from "../helpers/images.ts";
import { rasterizeJob, resizeJob } from "../helpers/jobs.ts";
import { serve, tempDir, type TestServer } from "../helpers/server.ts";
import { halfRedPng, magickPixels, psnr, tool } from "../helpers/tools.ts";

const PHOTO = "/usr/share/backgrounds/mate/nature/Garden.jpg";

/** Runs a job and returns the PNG it wrote. */
async function pngResult(imgserve: TestServer, job: Parameters<TestServer["post"]>[0], path: string) {
  const reply = await imgserve.post(job);
  assertEquals(reply.status, 202, JSON.stringify(reply.json));
  const done = await imgserve.finished(reply.json.id as string);
  assertEquals(done.state, "done", JSON.stringify(done));
  return await Deno.readFile(path);
}

/** IHDR's colour type as ImageMagick (libpng) reads it: 0 grey, 2 RGB, 4 grey and alpha, 6 RGBA. */
async function colourType(path: string): Promise<number> {
  const out = await new Deno.Command("identify", { args: ["-format", "%[png:IHDR.color-type-orig]", path] }).output();
  assert(out.success, new TextDecoder().decode(out.stderr));
  return Number(new TextDecoder().decode(out.stdout));
}

Deno.test("a JPEG photo resized to PNG is RGB without alpha, with the photo's pixels", async () => {
  await using dir = await tempDir();
  await using imgserve = await serve();
  await Deno.copyFile(PHOTO, `${dir.path}/photo.jpg`);
  const bytes = await pngResult(
    imgserve,
    resizeJob(`file://${dir.path}/photo.jpg`, `file://${dir.path}/photo.png`, { width: 320, format: "png" }),
    `${dir.path}/photo.png`,
  );
  assertEquals(bytes[25], 2, "IHDR colour type");
  assertEquals(await colourType(`${dir.path}/photo.png`), 2);
  const result = await magickPixels(`${dir.path}/photo.png`);
  const db = psnr(result, await magickPixels(PHOTO, "-resize", "320x"));
  assert(db > 30, `PSNR ${db.toFixed(1)} dB against ImageMagick's resize`);
  assert(result.data.every((v, i) => i % 4 !== 3 || v === 255), "opaque");
  // Three bytes a pixel and no more: well under what RGBA at the same compression would take.
  assert(bytes.length < result.width * result.height * 3, `${bytes.length} bytes`);
});

Deno.test("a grey JPEG becomes a grey PNG", async () => {
  await using dir = await tempDir();
  await using imgserve = await serve();
  await tool("convert", [PHOTO, "-resize", "640x", "-colorspace", "Gray", "-quality", "92", `${dir.path}/grey.jpg`]);
  const bytes = await pngResult(
    imgserve,
    resizeJob(`file://${dir.path}/grey.jpg`, `file://${dir.path}/grey.png`, { width: 320, format: "png" }),
    `${dir.path}/grey.png`,
  );
  assertEquals(bytes[25], 0, "IHDR colour type");
  assertEquals(await colourType(`${dir.path}/grey.png`), 0);
  const db = psnr(
    await magickPixels(`${dir.path}/grey.png`),
    await magickPixels(`${dir.path}/grey.jpg`, "-resize", "320x"),
  );
  assert(db > 30, `PSNR ${db.toFixed(1)} dB against ImageMagick's resize`);
});

Deno.test("a PNG whose alpha channel is all opaque loses it; one with transparency keeps it, grey or colour", async () => {
  await using dir = await tempDir();
  await using imgserve = await serve();
  await tool("convert", [PHOTO, "-resize", "320x", `PNG32:${dir.path}/opaque.png`]);
  assertEquals(await colourType(`${dir.path}/opaque.png`), 6);
  await halfRedPng(`${dir.path}/red.png`);
  await tool("convert", [
    ...["-size", "64x32", "xc:none", "-fill", "gray40", "-draw", "rectangle 0,0 31,31"],
    `PNG32:${dir.path}/grey.png`,
  ]);
  const run = (name: string, args: Record<string, unknown>) =>
    pngResult(
      imgserve,
      resizeJob(`file://${dir.path}/${name}.png`, `file://${dir.path}/${name}-out.png`, args),
      `${dir.path}/${name}-out.png`,
    );
  assertEquals((await run("opaque", { width: 160 }))[25], 2, "opaque RGBA source");
  for (const [name, type, colour] of [["red", 6, [255, 0, 0]], ["grey", 4, [102, 102, 102]]] as const) {
    // At the source's size: the pixels come back exactly.
    const bytes = await run(name, { width: 64 });
    assertEquals(bytes[25], type, `${name}: IHDR colour type`);
    assertEquals(await colourType(`${dir.path}/${name}-out.png`), type);
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
    pngResult(
      imgserve,
      rasterizeJob(`file://${dir.path}/${name}.svg`, `file://${dir.path}/${name}.png`, { width: 64 }),
      `${dir.path}/${name}.png`,
    );
  const clear = await run("clear");
  assertEquals(clear[25], 6, "transparent background: IHDR colour type");
  const image = await decode(clear);
  assertEquals(pixel(image, 2, 2)[3], 0, "corner transparent");
  assertEquals(pixel(image, 32, 32), [0, 0, 255, 255], "centre blue");
  const filled = await run("filled");
  assertEquals(filled[25], 2, "opaque background: IHDR colour type");
  assertEquals(await colourType(`${dir.path}/filled.png`), 2);
  assertEquals(pixel(await decode(filled), 2, 2), [255, 204, 0, 255], "corner");
});
