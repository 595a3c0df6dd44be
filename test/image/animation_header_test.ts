import { assertEquals, assertThrows } from "../helpers/assert.ts";
import { ImgserveError } from "../../protocol/error_codes.ts";
import { readHeader } from "../../src/image/header.ts";
import { mayBeAnimated, withFrames } from "../../src/image/animation_header.ts";
import { tempDir } from "../helpers/server.ts";
import { tool } from "../helpers/tools.ts";
import { manyFrameGif } from "../helpers/animations.ts";

const LIMITS = { maxFrames: 1000, maxAnimationPixels: 1e9 };

Deno.test("frames are counted from a GIF's blocks and a WebP's ANMF chunks; a one-frame GIF stays a still", async () => {
  await using dir = await tempDir();
  await tool("convert", ["-size", "30x20", "xc:red", "xc:blue", "xc:lime", "xc:red", `${dir.path}/four.gif`]);
  await tool("convert", ["-size", "30x20", "xc:red", `${dir.path}/one.gif`]);
  await tool("convert", ["-size", "30x20", "xc:red", `${dir.path}/one.png`]);
  await tool("convert", ["-size", "30x20", "xc:blue", `${dir.path}/blue.png`]);
  await tool("img2webp", ["-lossy", `${dir.path}/one.png`, `${dir.path}/blue.png`, "-o", `${dir.path}/two.webp`]);
  await tool("cwebp", ["-quiet", `${dir.path}/one.png`, "-o", `${dir.path}/still.webp`]);
  const framesOf = async (name: string) => {
    const bytes = await Deno.readFile(`${dir.path}/${name}`);
    const header = readHeader(bytes, true);
    return mayBeAnimated(header, bytes) ? withFrames(header, bytes, LIMITS).frames : "not walked";
  };
  assertEquals(await framesOf("four.gif"), 4);
  assertEquals(await framesOf("one.gif"), undefined);
  assertEquals(await framesOf("two.webp"), 2);
  assertEquals(await framesOf("still.webp"), "not walked");
});

Deno.test("the walk stops at the frame past --max-frames and checks all frames' pixels", () => {
  const gif = manyFrameGif(100, 100, 30);
  const header = readHeader(gif, true);
  assertEquals(withFrames(header, gif, { ...LIMITS, maxFrames: 30 }).frames, 30);
  const over = assertThrows(() => withFrames(header, gif, { ...LIMITS, maxFrames: 29 }), ImgserveError);
  assertEquals(over.name, "TOO_MANY_FRAMES");
  assertEquals(withFrames(header, gif, { ...LIMITS, maxAnimationPixels: 300_000 }).frames, 30);
  const pixels = assertThrows(() => withFrames(header, gif, { ...LIMITS, maxAnimationPixels: 299_999 }), ImgserveError);
  assertEquals(pixels.name, "ANIMATION_TOO_MANY_PIXELS");
});

Deno.test("a WebP frame coded larger than its ANMF rectangle is refused before anything is decoded", async () => {
  await using dir = await tempDir();
  await tool("convert", ["-size", "30x20", "xc:red", `${dir.path}/red.png`]);
  await tool("convert", ["-size", "30x20", "xc:blue", `${dir.path}/blue.png`]);
  const webp = `${dir.path}/two.webp`;
  await tool("img2webp", ["-lossless", `${dir.path}/red.png`, `${dir.path}/blue.png`, "-o", webp]);
  const bytes = await Deno.readFile(webp);
  const header = readHeader(bytes, true);
  assertEquals(withFrames(header, bytes, LIMITS).frames, 2);
  // The last frame's VP8L header: signature 2f, then its width less one in 14 bits, made 16383.
  const vp8l = new TextDecoder("latin1").decode(bytes).lastIndexOf("VP8L");
  const bigger = bytes.slice();
  bigger[vp8l + 9] = 0xff;
  bigger[vp8l + 10] |= 0x3f;
  const refused = assertThrows(() => withFrames(header, bigger, LIMITS), ImgserveError);
  assertEquals(refused.name, "SOURCE_NOT_IMAGE");
  assertEquals(/coded as 16384x20 in its \d+x\d+ ANMF/.test(refused.message), true, refused.message);
});
