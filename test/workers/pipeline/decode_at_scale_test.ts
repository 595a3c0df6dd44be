/**
 * decodeAtScale: one decode for all the outputs, at the smallest n/8 the
 * most demanding of them can use, the pixels as the file stores them.
 */
import { decodeAtScale } from "../../../workers/pipeline/decode_at_scale.ts";
import type { SourceImage } from "../../../workers/pipeline/mod.ts";
import type { Plan } from "../../../protocol/plan.ts";
import { ImgserveError } from "../../../protocol/error_codes.ts";
import { assert, assertEquals, assertRejects } from "../../helpers/assert.ts";
import { codecs, jpeg, near, painted, png, RED, withOrientation } from "../../helpers/images.ts";
import { tempDir } from "../../helpers/server.ts";
import { tool } from "../../helpers/tools.ts";
import { planFor } from "../reference.ts";
import { at, planOf } from "./image.ts";

/** 2560x1600, baseline. */
const PHOTO = "/usr/share/backgrounds/mate/nature/LadyBird.jpg";

function sourceOf(bytes: Uint8Array, plans: Plan[]): SourceImage {
  const image = { data: new Uint8ClampedArray(0), width: 0, height: 0 };
  return { bytes, plans, image, scale: 1, factor: 1, colour: {}, orientation: 1 };
}

Deno.test("a JPEG decodes once at the smallest n/8 that its largest output can use", async () => {
  await codecs();
  const bytes = await Deno.readFile(PHOTO);
  const thumb = planFor(bytes, 200, 125, "fit");
  const alone = sourceOf(bytes, [thumb]);
  await decodeAtScale(alone);
  // Twice 200 over 2560 wide: at least 400 pixels, so 2/8.
  assertEquals([alone.image.width, alone.image.height, alone.scale], [640, 400, 0.25]);
  const both = sourceOf(bytes, [thumb, planFor(bytes, 400, 250, "fit")]);
  await decodeAtScale(both);
  // Twice 400: at least 800, so 3/8 for both outputs.
  assertEquals([both.image.width, both.image.height, both.scale], [960, 600, 0.375]);
  assertEquals(both.factor, 2 * 400 / 2560);
});

Deno.test("a turned JPEG comes out as stored, its orientation left for the orient step", async () => {
  await codecs();
  const stored = painted(640, 400, (x) => (x < 320 ? RED : [0, 0, 255, 255]));
  const bytes = withOrientation(await jpeg(stored, 90), 6);
  const source = sourceOf(bytes, [planFor(bytes, 100, 160, "fit")]);
  await decodeAtScale(source);
  assertEquals([source.image.width, source.image.height, source.orientation], [320, 200, 6]);
  assert(near(at(source.image, 10, 100), RED), "the stored left half is red");
});

Deno.test("a CMYK JPEG's samples stay CMYK for toSrgb, and a PNG decodes whole", async () => {
  await codecs();
  await using dir = await tempDir();
  await tool("convert", ["-size", "96x64", "xc:red", "-colorspace", "CMYK", `${dir.path}/c.jpg`]);
  const cmyk = await Deno.readFile(`${dir.path}/c.jpg`);
  const source = sourceOf(cmyk, [planFor(cmyk, 96, 64, "fit")]);
  await decodeAtScale(source);
  assertEquals([source.colour.components, source.image.width, source.image.height], [4, 96, 64]);
  // Red is no cyan and full magenta and yellow; Adobe's inverted samples store that as 255, 0, 0.
  assert(near(at(source.image, 5, 5), [255, 0, 0, 255]), `samples ${at(source.image, 5, 5)}`);
  const whole = sourceOf(await png(painted(30, 20, () => RED)), [planOf(30, 20, { width: 3, height: 2 })]);
  await decodeAtScale(whole);
  assertEquals([whole.image.width, whole.image.height, whole.scale, whole.orientation], [30, 20, 1, 1]);
});

Deno.test("a damaged source is refused with SOURCE_DAMAGED before any output is made", async () => {
  await codecs();
  const bytes = await jpeg(painted(640, 400, () => RED), 90);
  const cut = bytes.slice(0, bytes.length - 300);
  const refused = await assertRejects(() => decodeAtScale(sourceOf(cut, [planFor(cut, 64, 40, "fit")])), ImgserveError);
  assertEquals(refused.code, 606);
});
