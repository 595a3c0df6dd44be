import { assert, assertEquals, assertRejects } from "../helpers/assert.ts";
import { tempDir } from "../helpers/server.ts";
import { magickPixels, psnr, tool } from "../helpers/tools.ts";
import { heifEnc, heifFile } from "../helpers/heif_grid.ts";
import { decodeHeic, HeicDecodeError } from "../../workers/ops/heic_decode.ts";
import { turnUpright } from "../../workers/pipeline/orient.ts";
import { readHeader } from "../../src/image/header.ts";

Deno.test("libheif gives a HEIC's pixels as stored, and orient turns them as heif-convert displays them", async () => {
  await using dir = await tempDir();
  const d = dir.path;
  await tool("convert", ["/usr/share/backgrounds/mate/nature/Garden.jpg", "-resize", "96x64!", `${d}/p.png`]);
  const turned = heifFile([await heifEnc(`${d}/p.png`, `${d}/p.heic`)], { irot: 1, imir: 1 });
  await Deno.writeFile(`${d}/turned.heic`, turned);
  const { image, warning } = await decodeHeic(turned);
  assertEquals([image.width, image.height, warning], [96, 64, undefined]);
  // As stored: libheif's decode of the same data without irot and imir.
  await tool("heif-convert", [`${d}/p.heic`, `${d}/stored.png`]);
  const stored = await magickPixels(`${d}/stored.png`);
  assert(psnr(image, stored) >= 35, `stored: ${psnr(image, stored).toFixed(1)} dB`);
  await tool("heif-convert", [`${d}/turned.heic`, `${d}/turned.png`]);
  const shown = await magickPixels(`${d}/turned.png`);
  const upright = turnUpright(image, readHeader(turned, true).orientation);
  assertEquals([upright.width, upright.height], [64, 96]);
  assert(psnr(upright, shown) >= 35, `upright: ${psnr(upright, shown).toFixed(1)} dB`);
});

Deno.test("libheif's refusals are HeicDecodeErrors in its own words, and the next decode works", async () => {
  await using dir = await tempDir();
  const d = dir.path;
  await tool("convert", ["-size", "64x64", "gradient:red-blue", `${d}/g.png`]);
  const good = await heifEnc(`${d}/g.png`, `${d}/g.heic`);
  const error = await assertRejects(() => decodeHeic(good.subarray(0, 40)), HeicDecodeError);
  assert(error.message.length > 0 && error.message.length <= 160, error.message);
  const { image } = await decodeHeic(good);
  assertEquals([image.width, image.height], [64, 64]);
});
