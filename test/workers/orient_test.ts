/**
 * EXIF orientation on the scaled JPEG path, which decodes pixels as stored
 * and turns them itself, checked against mozjpeg's own orientation.
 */
import { decodeJpegScaled } from "../../workers/ops/jpeg_scaled.ts";
import { turnUpright } from "../../workers/pipeline/orient.ts";
import { resizePixels } from "../../workers/pipeline/mod.ts";
import { StageTimer } from "../../workers/ops/timer.ts";
import { assert, assertEquals, assertRejects } from "../helpers/assert.ts";
import { ImgserveError } from "../../protocol/error_codes.ts";
import { BLUE, codecs, GREEN, jpeg, near, painted, RED, type Rgba, withOrientation } from "../helpers/images.ts";
import { planFor, referencePixels } from "./reference.ts";
import { psnr } from "../helpers/tools.ts";

const WHITE: Rgba = [255, 255, 255, 255];

/** Stored 640x400: red, green, blue, white quadrants, with a diagonal gradient on top so no turn looks like another. */
function storedImage(): ImageData {
  return painted(640, 400, (x, y) => {
    const base = x < 320 ? (y < 200 ? RED : GREEN) : (y < 200 ? BLUE : WHITE);
    const shade = Math.round((x + y) / 1040 * 60);
    return [Math.max(0, base[0] - shade), Math.max(0, base[1] - shade), Math.max(0, base[2] - shade), 255];
  });
}

/** Where the stored top-left (red) quadrant shows, per orientation: [right half, bottom half]. */
const RED_AT: Record<number, [boolean, boolean]> = {
  1: [false, false],
  2: [true, false],
  3: [true, true],
  4: [false, true],
  5: [false, false],
  6: [true, false],
  7: [true, true],
  8: [false, true],
};

for (let orientation = 1; orientation <= 8; orientation++) {
  for (const mode of ["fit", "cover"] as const) {
    Deno.test(`EXIF orientation ${orientation} comes out upright on the scaled decode (${mode})`, async () => {
      await codecs();
      const bytes = withOrientation(await jpeg(storedImage(), 95), orientation);
      const turned = orientation >= 5;
      const plan = planFor(bytes, turned ? 80 : 128, turned ? 128 : 80, mode);
      if (mode === "cover") {
        // A square from the middle: the crop rectangle is in displayed coordinates.
        Object.assign(plan, { width: 60, height: 60 }, { crop: square(plan.source.width, plan.source.height) });
      }
      const out = await resizePixels(bytes, plan, new StageTimer());
      const reference = await referencePixels(bytes, plan);
      assertEquals([out.width, out.height], [reference.width, reference.height]);
      const db = psnr(out, reference);
      assert(db >= 30, `PSNR ${db.toFixed(1)} dB against mozjpeg's orientation`);
      if (mode === "fit") {
        const [right, bottom] = RED_AT[orientation];
        const x = right ? out.width - 5 : 4;
        const y = bottom ? out.height - 5 : 4;
        const at = (y * out.width + x) * 4;
        const colour = [...out.data.subarray(at, at + 4)] as Rgba;
        assert(near(colour, RED, 60), `expected red at ${x},${y}, got ${colour}`);
      }
    });
  }
}

function square(width: number, height: number) {
  const side = Math.min(width, height);
  return { x: Math.floor((width - side) / 2), y: Math.floor((height - side) / 2), width: side, height: side };
}

Deno.test("the scaled decode picks the smallest n/8 that keeps the asked size", async () => {
  await codecs();
  const bytes = await jpeg(storedImage(), 90);
  const quarter = decodeJpegScaled(bytes, 150, 90);
  assertEquals([quarter.width, quarter.height, quarter.scale], [160, 100, 0.25]);
  const full = decodeJpegScaled(bytes, 641, 1);
  assertEquals([full.width, full.height, full.scale], [640, 400, 1]);
});

Deno.test("the scaled decoder reports corrupt, cut data as damaged and still decodes the next image", async () => {
  await codecs();
  const bytes = await jpeg(storedImage(), 90);
  const corrupt = bytes.slice();
  corrupt.fill(0xab, 600, 2000);
  let damaged = false;
  try {
    damaged = decodeJpegScaled(corrupt.subarray(0, 1500), 80, 50).warned === true;
  } catch {
    damaged = true;
  }
  assert(damaged, "a truncated, corrupt JPEG was taken as whole");
  const next = decodeJpegScaled(bytes, 80, 50);
  assertEquals([next.width, next.warned], [80, false]);
});

Deno.test("orientation 6 turns a 3x2 image a quarter clockwise", () => {
  // Pixels numbered 0..5 row by row in the first byte.
  const data = new Uint8ClampedArray(3 * 2 * 4);
  for (let i = 0; i < 6; i++) data[i * 4] = i;
  const out = turnUpright({ data, width: 3, height: 2 }, 6);
  assertEquals([out.width, out.height], [2, 3]);
  assertEquals([0, 1, 2, 3, 4, 5].map((i) => out.data[i * 4]), [3, 0, 4, 1, 5, 2]);
});

Deno.test("a cut JPEG is refused as damaged on either decoder, and with failOn none gives the part it holds", async () => {
  await codecs();
  const bytes = await jpeg(painted(640, 400, () => GREEN), 90);
  const truncated = bytes.slice(0, bytes.length - 200);
  // 64x40 decodes at 1/8 through libjpeg-turbo, 640x400 at full size through MozJPEG.
  for (const [width, height] of [[64, 40], [640, 400]]) {
    const plan = planFor(truncated, width, height, "fit");
    const refused = await assertRejects(() => resizePixels(truncated, plan, new StageTimer()), ImgserveError);
    assertEquals([refused.code, /^the JPEG is damaged/.test(refused.message)], [606, true], refused.message);
    const out = await resizePixels(truncated, { ...plan, failOn: "none" }, new StageTimer());
    assertEquals([out.width, out.height], [width, height]);
    assert(near([...out.data.subarray(0, 4)] as Rgba, GREEN), "top-left is not green");
  }
});
