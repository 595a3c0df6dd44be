import { assertEquals } from "../../helpers/assert.ts";
import { codecs, near, painted, type Rgba } from "../../helpers/images.ts";
import { tempDir } from "../../helpers/server.ts";
import { WebpAnimationWriter } from "../../../workers/animation/webp_writer.ts";
import { walkWebpAnimation } from "../../../shared/webp_anim.ts";
import { webpFrames } from "../../../workers/animation/webp_frames.ts";
import { fromImageData } from "../../../workers/ops/pixels.ts";

Deno.test("the animated WebP writer's frames, durations and loop count read back in webpmux and our own walk", async () => {
  await codecs();
  await using dir = await tempDir();
  const colours: Rgba[] = [[255, 0, 0, 255], [0, 0, 255, 128], [0, 255, 0, 255]];
  for (const lossless of [false, true]) {
    const writer = new WebpAnimationWriter(
      48,
      32,
      4,
      lossless ? { lossless: 1, quality: 75, exact: 0 } : { quality: 90 },
    );
    for (const [i, colour] of colours.entries()) {
      await writer.add(fromImageData(painted(48, 32, () => colour)), 100 * (i + 1));
    }
    const bytes = new Uint8Array(writer.finish());
    await Deno.writeFile(`${dir.path}/w.webp`, bytes);
    const { stdout, success } = await new Deno.Command("webpmux", { args: ["-info", `${dir.path}/w.webp`] }).output();
    const info = new TextDecoder().decode(stdout);
    assertEquals(success, true, info);
    assertEquals(/Loop Count : (\d+)/.exec(info)?.[1], "4");
    assertEquals(/Features present: (.*)/.exec(info)?.[1], "animation transparency");
    const walk = walkWebpAnimation(bytes, 10);
    assertEquals(walk.frames.map((f) => [f.width, f.height, f.delayMs, f.blend, f.dispose]), [
      [48, 32, 100, false, false],
      [48, 32, 200, false, false],
      [48, 32, 300, false, false],
    ]);
    let i = 0;
    for await (const frame of webpFrames(bytes, 3, "warning").frames) {
      const at = (16 * 48 + 24) * 4;
      const got = [...frame.image.data.subarray(at, at + 4)] as Rgba;
      assertEquals(near(got, colours[i], 6), true, `${lossless} frame ${i}: ${got}`);
      i++;
    }
  }
});
