/**
 * The fast thumbnail path (scaled JPEG decode, box pre-shrink, Lanczos3)
 * against a full-resolution Lanczos3 reference, on real photos from Debian's
 * mate-backgrounds package.
 */
import { resizePixels } from "../../workers/pipeline/mod.ts";
import { StageTimer } from "../../workers/ops/timer.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import { codecs } from "../helpers/images.ts";
import { planFor, referencePixels } from "./reference.ts";
import { psnr } from "../helpers/tools.ts";

const MATE = "/usr/share/backgrounds/mate";
// Baseline 2560x1600, baseline 1900x1200, progressive 1600x1203, progressive 3840x2160.
const PHOTOS = [
  "nature/LadyBird.jpg",
  "nature/TwoWings.jpg",
  "desktop/GreenTraditional.jpg",
  "nature/FreshFlower.jpg",
  "abstract/Elephants_3840x2160.jpg",
];
/** Well above visible difference; q80 encoding alone scores 30-35 dB on these photos. */
const MIN_PSNR_DB = 36;

for (const name of PHOTOS) {
  Deno.test(`a 200x120 cover thumbnail of ${name} stays within ${MIN_PSNR_DB} dB of full-size Lanczos3`, async () => {
    await codecs();
    const bytes = await Deno.readFile(`${MATE}/${name}`);
    const plan = planFor(bytes, 200, 120, "cover");
    const fast = await resizePixels(bytes, plan, new StageTimer());
    const reference = await referencePixels(bytes, plan);
    assertEquals([fast.width, fast.height], [200, 120]);
    const db = psnr(fast, reference);
    assert(db >= MIN_PSNR_DB, `PSNR ${db.toFixed(1)} dB`);
  });
}

Deno.test("a fit-mode thumbnail of a photo keeps the whole picture within the PSNR bound", async () => {
  await codecs();
  const bytes = await Deno.readFile(`${MATE}/nature/Garden.jpg`);
  const plan = planFor(bytes, 320, 200, "fit");
  const fast = await resizePixels(bytes, plan, new StageTimer());
  const db = psnr(fast, await referencePixels(bytes, plan));
  assert(db >= MIN_PSNR_DB, `PSNR ${db.toFixed(1)} dB`);
});
