/**
 * toSrgb: the decoded pixels in sRGB, through an embedded profile, and a
 * CMYK JPEG's samples as RGBA.
 */
import { toSrgb } from "../../../workers/pipeline/to_srgb.ts";
import { assert, assertEquals } from "../../helpers/assert.ts";
import { codecs, GREEN, near, RED } from "../../helpers/images.ts";
import { at, decoded, pixelsOf, planOf } from "./image.ts";

const ICC = "/usr/share/color/icc/colord";

Deno.test("pixels in an embedded profile's colours are converted to sRGB in place, alpha kept", async () => {
  await codecs();
  const source = decoded(pixelsOf(8, 4, () => [255, 0, 0, 128]), planOf(8, 4));
  const image = source.image;
  // This profile's red is sRGB's green.
  source.colour = { icc: await Deno.readFile(`${ICC}/SwappedRedAndGreen.icc`) };
  await toSrgb(source);
  assert(source.image === image, "converted in place");
  assert(near(at(source.image, 3, 2), [GREEN[0], GREEN[1], GREEN[2], 128], 8), `got ${at(source.image, 3, 2)}`);
});

Deno.test("an sRGB profile, or none, leaves the pixels as they are", async () => {
  await codecs();
  const source = decoded(pixelsOf(4, 4, () => [10, 20, 30, 255]), planOf(4, 4));
  await toSrgb(source);
  source.colour = { icc: await Deno.readFile(`${ICC}/sRGB.icc`) };
  await toSrgb(source);
  assertEquals(at(source.image, 1, 1), [10, 20, 30, 255]);
});

Deno.test("a CMYK JPEG's samples become opaque RGBA (the plain formula when no profile is there)", async () => {
  await codecs();
  // No cyan, full magenta and yellow, no black: red.
  const source = decoded(pixelsOf(6, 2, () => [0, 255, 255, 0]), planOf(6, 2));
  source.colour = { components: 4, adobe: false };
  await toSrgb(source);
  assertEquals([source.image.width, source.image.height], [6, 2]);
  assertEquals(at(source.image, 5, 1), RED);
  // Adobe's files store 255 for no ink.
  const adobe = decoded(pixelsOf(6, 2, () => [255, 0, 0, 255]), planOf(6, 2));
  adobe.colour = { components: 4, adobe: true };
  await toSrgb(adobe);
  assertEquals(at(adobe.image, 0, 0), RED);
});
