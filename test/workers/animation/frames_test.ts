import { assert, assertEquals } from "../../helpers/assert.ts";
import { codecs, decode } from "../../helpers/images.ts";
import { tempDir } from "../../helpers/server.ts";
import { tool } from "../../helpers/tools.ts";
import { walkGif } from "../../../shared/gif_blocks.ts";
import { gifFrames } from "../../../workers/animation/gif_frames.ts";
import { webpFrames } from "../../../workers/animation/webp_frames.ts";
import type { AnimationFrames } from "../../../workers/animation/canvas_frames.ts";

/** A 40x30 GIF: a base of two bands, squares drawn over it at offsets, disposed "previous", "background", "none". */
async function disposingGif(dir: string): Promise<string> {
  const base = `${dir}/base.png`, square = `${dir}/square.png`;
  await tool("convert", ["-size", "20x30", "xc:red", "xc:blue", "+append", base]);
  await tool("convert", ["-size", "10x10", "xc:none", "-fill", "yellow", "-draw", "rectangle 2,2 7,7", square]);
  const gif = `${dir}/d.gif`;
  await tool("convert", [
    ...["-delay", "5", "-loop", "2", "-dispose", "none", base, "-dispose", "previous", "-page", "+3+3", square],
    ...["-dispose", "background", "-page", "+25+15", square, "-dispose", "none", "-page", "+10+18", square],
    ...["-page", "+0+0", square],
    gif,
  ]);
  return gif;
}

/** ImageMagick's coalesced frames of `path`, as RGBA. */
async function coalesced(path: string, count: number): Promise<ImageData[]> {
  await tool("convert", [path, "-coalesce", `PNG32:${path}.%d.png`]);
  return await Promise.all(
    Array.from({ length: count }, async (_, i) => decode(await Deno.readFile(`${path}.${i}.png`))),
  );
}

/** Largest channel difference over every pixel, transparent pixels' colours aside. */
async function farthest(animation: AnimationFrames, reference: ImageData[]): Promise<number[]> {
  const worst: number[] = [];
  let i = 0;
  for await (const frame of animation.frames) {
    const want = reference[i++].data;
    let most = 0;
    for (let p = 0; p < want.length; p += 4) {
      if (want[p + 3] === 0 && frame.image.data[p + 3] === 0) continue;
      for (let c = 0; c < 4; c++) most = Math.max(most, Math.abs(want[p + c] - frame.image.data[p + c]));
    }
    worst.push(most);
  }
  return worst;
}

Deno.test("GIF frames, interlaced or not, are drawn, cleared and put back exactly as ImageMagick coalesces them", async () => {
  await using dir = await tempDir();
  const gif = await disposingGif(dir.path);
  const interlaced = `${dir.path}/interlaced.gif`;
  await tool("convert", [gif, "-interlace", "Line", interlaced]);
  for (const path of [gif, interlaced]) {
    const animation = gifFrames(await Deno.readFile(path), 5, "warning");
    assertEquals([animation.count, animation.plays], [5, 2]);
    assertEquals(await farthest(animation, await coalesced(path, 5)), [0, 0, 0, 0, 0], path);
  }
  assertEquals(walkGif(await Deno.readFile(interlaced), 5).frames.map((f) => f.interlaced), Array(5).fill(true));
});

Deno.test("WebP frames are blended and replaced to show what the GIF gif2webp made them from shows", async () => {
  await codecs();
  await using dir = await tempDir();
  const gif = await disposingGif(dir.path);
  // gif2webp makes the squares frames of their own, blended or not, the cleared area one that replaces, not blends;
  // ImageMagick 6 blends every WebP frame, so the reference is the GIF's own coalesced frames.
  const webp = `${dir.path}/d.webp`;
  await tool("gif2webp", ["-quiet", "-lossy", "-q", "100", "-mixed", gif, "-o", webp]);
  const animation = webpFrames(await Deno.readFile(webp), 5, "warning");
  assertEquals(animation.count, 5);
  const worst = await farthest(animation, await coalesced(gif, 5));
  assert(worst.every((d) => d <= 24), `largest differences ${worst}`);
});

Deno.test("a walk bounded by the frames counted before the reply refuses a file that grew frames since", async () => {
  await using dir = await tempDir();
  const gif = await disposingGif(dir.path);
  let code = "";
  try {
    gifFrames(await Deno.readFile(gif), 4, "warning");
  } catch (err) {
    code = (err as { name: string }).name;
  }
  assertEquals(code, "TOO_MANY_FRAMES");
});
