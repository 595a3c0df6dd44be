/**
 * Cut PNGs of every layout the rebuild must size right (interlaced, 16-bit,
 * palette, grey with alpha) are refused as damaged, and with failOn none
 * give their first rows; whole ones pass the check.
 */
import { resizePixels } from "../../workers/pipeline/mod.ts";
import { pngDamage } from "../../workers/ops/png_damage.ts";
import { StageTimer } from "../../workers/ops/timer.ts";
import { ImgserveError } from "../../protocol/error_codes.ts";
import { assert, assertEquals, assertRejects } from "../helpers/assert.ts";
import { codecs, near, type Rgba } from "../helpers/images.ts";
import { tempDir } from "../helpers/server.ts";
import { magickPixels, tool } from "../helpers/tools.ts";
import { planFor } from "./reference.ts";

const PHOTO = "/usr/share/backgrounds/mate/nature/FreshFlower.jpg";

Deno.test("cut PNGs (interlaced, 16-bit, palette, grey and alpha) are damaged; with failOn none their top rows come through", async () => {
  await codecs();
  await using dir = await tempDir();
  const layouts: Record<string, string[]> = {
    interlaced: ["-interlace", "PNG"],
    deep: ["-depth", "16"],
    palette: ["-colors", "64", "PNG8:"],
    greyAlpha: ["-colorspace", "Gray", "-alpha", "set", "-define", "png:color-type=4"],
  };
  for (const [name, options] of Object.entries(layouts)) {
    const prefix = options.at(-1)!.endsWith(":") ? options.at(-1)! : "";
    const path = `${dir.path}/${name}.png`;
    await tool("convert", [PHOTO, "-resize", "160x120!", ...options.filter((o) => !o.endsWith(":")), prefix + path]);
    const whole = await Deno.readFile(path);
    // Bit depth, colour type and interlace method as the layout asks.
    const ihdr = { interlaced: [8, 2, 1], deep: [16, 2, 0], palette: [8, 3, 0], greyAlpha: [8, 4, 0] }[name];
    assertEquals([whole[24], whole[25], whole[28]], ihdr, name);
    assertEquals(pngDamage(whole), undefined, name);
    // Nine tenths: the first rows are there in every layout, an interlaced file's first passes whole.
    const cut = whole.subarray(0, Math.floor(whole.length * 0.9));
    const plan = planFor(cut, 160, 120, "fit");
    const refused = await assertRejects(() => resizePixels(cut, plan, new StageTimer()), ImgserveError);
    assertEquals(refused.code, 606, `${name}: ${refused.message}`);
    const out = await resizePixels(cut, { ...plan, failOn: "none" }, new StageTimer());
    assertEquals([out.width, out.height], [160, 120], name);
    const reference = await magickPixels(path);
    const at = (4 * 160 + 80) * 4;
    const got = [...out.data.subarray(at, at + 4)] as Rgba;
    const want = [...reference.data.subarray(at, at + 4)] as Rgba;
    assert(near(got, want, 48), `${name}: ${got} against ${want}`);
  }
});
