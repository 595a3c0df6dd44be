import { assert, assertEquals } from "../helpers/assert.ts";
import { decode, pixel, withOrientation } from "../helpers/images.ts";
import { serve, tempDir } from "../helpers/server.ts";
import { contains, halfRedPng, magickPixels, psnr, tool } from "../helpers/tools.ts";
import { readHeader } from "../../src/image/header.ts";
import { resizeJob } from "../helpers/jobs.ts";

/** Four quadrants of different colours: any wrong turn or mirror moves them. */
async function quadrants(path: string): Promise<void> {
  await tool("convert", [
    ...["-size", "60x40", "xc:red", "-fill", "lime", "-draw", "rectangle 30,0 59,19"],
    ...["-fill", "blue", "-draw", "rectangle 0,20 29,39", "-fill", "yellow", "-draw", "rectangle 30,20 59,39"],
    path,
  ]);
}

async function avifenc(dir: string, name: string, ...options: string[]): Promise<string> {
  const out = `${dir}/${name}.avif`;
  await tool("avifenc", ["-s", "10", "-y", "444", "--min", "0", "--max", "8", ...options, `${dir}/q.png`, out]);
  return out;
}

Deno.test("AVIF size comes from ispe, turned by irot; alpha from an alpha auxiliary item", async () => {
  await using dir = await tempDir();
  await quadrants(`${dir.path}/q.png`);
  const plain = readHeader(await Deno.readFile(await avifenc(dir.path, "plain")), true);
  assertEquals([plain.format, plain.width, plain.height, plain.orientation, plain.hasAlpha], [
    "avif",
    60,
    40,
    1,
    false,
  ]);
  const turned = readHeader(await Deno.readFile(await avifenc(dir.path, "turned", "--irot", "1")), true);
  assertEquals([turned.width, turned.height], [40, 60]);
  await tool("convert", [
    `${dir.path}/q.png`,
    "-alpha",
    "set",
    "-channel",
    "A",
    "-evaluate",
    "set",
    "50%",
    `${dir.path}/q.png`,
  ]);
  const alpha = readHeader(await Deno.readFile(await avifenc(dir.path, "alpha")), true);
  assertEquals(alpha.hasAlpha, true);
});

Deno.test("AVIF sources with irot and imir come out as libheif (ImageMagick) displays them", async () => {
  await using dir = await tempDir();
  await quadrants(`${dir.path}/q.png`);
  await using imgserve = await serve();
  const cases = [["--irot", "1"], ["--imir", "0"], ["--imir", "1"], ["--irot", "1", "--imir", "0"], [
    "--irot",
    "3",
    "--imir",
    "1",
  ], ["--irot", "2"]];
  for (const [i, options] of cases.entries()) {
    const path = await avifenc(dir.path, `t${i}`, ...options);
    const reference = await magickPixels(path);
    const reply = await imgserve.post(
      resizeJob(`file://${path}`, `file://${dir.path}/out${i}.png`, { width: reference.width, format: "png" }),
    );
    assertEquals(reply.status, 202, JSON.stringify(reply.json));
    assertEquals((await imgserve.finished(reply.json.id as string)).state, "done");
    const result = await decode(await Deno.readFile(`${dir.path}/out${i}.png`));
    const db = psnr(result, reference);
    assert(db > 30, `${options.join(" ")}: PSNR ${db.toFixed(1)} dB`);
    // The pixels as stored (transforms ignored) would fail the same bar.
    const stored = await decode(await Deno.readFile(path));
    if (stored.width === result.width) assert(psnr(stored, reference) < 15, `${options.join(" ")} is not a no-op`);
  }
});

Deno.test("AVIF results decode back at their size, keep alpha, carry no EXIF; AVIF placeholder first", async () => {
  await using dir = await tempDir();
  await using imgserve = await serve();
  // Left half opaque red, right half transparent.
  await halfRedPng(`${dir.path}/a.png`);
  await tool("avifenc", ["-s", "10", `${dir.path}/a.png`, `${dir.path}/a.avif`]);
  const reply = await imgserve.post(
    resizeJob(`file://${dir.path}/a.avif`, `file://${dir.path}/out/{$basename}.{$format}`, { width: 32 }),
  );
  assertEquals(reply.status, 202);
  const placeholder = readHeader(await Deno.readFile(`${dir.path}/out/a.avif`), true);
  assertEquals([placeholder.format, placeholder.width, placeholder.height], ["avif", 32, 16]);
  assertEquals((await imgserve.finished(reply.json.id as string)).state, "done");
  const bytes = await Deno.readFile(`${dir.path}/out/a.avif`);
  const result = await decode(bytes);
  assertEquals([result.width, result.height], [32, 16]);
  assert(
    pixel(result, 4, 8)[3] > 240 && pixel(result, 28, 8)[3] < 15,
    `alpha ${pixel(result, 4, 8)} ${pixel(result, 28, 8)}`,
  );
  assert(!contains(bytes, "Exif"), "an Exif item");

  await tool("convert", ["-size", "64x48", "gradient:red-blue", `${dir.path}/g.jpg`]);
  const withExif = withOrientation(await Deno.readFile(`${dir.path}/g.jpg`), 1);
  assert(contains(withExif, "Exif"));
  await Deno.writeFile(`${dir.path}/g.jpg`, withExif);
  for (const format of ["avif", "webp", "jpeg", "png"]) {
    const r = await imgserve.post(
      resizeJob(`file://${dir.path}/g.jpg`, `file://${dir.path}/out/g.{$format}`, { width: 40, format }),
    );
    assertEquals((await imgserve.finished(r.json.id as string)).state, "done");
    const out = await Deno.readFile(`${dir.path}/out/g.${format === "jpeg" ? "jpg" : format}`);
    const image = await decode(out);
    assertEquals([image.width, image.height], [40, 30], format);
    assert(!contains(out, "Exif"), `${format} result carries EXIF`);
  }
});
