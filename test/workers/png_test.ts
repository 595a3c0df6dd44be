import { assert, assertEquals } from "../helpers/assert.ts";
import { codecs, decode } from "../helpers/images.ts";
import { decodePngFile, resetPngDecoder } from "../../workers/ops/png_decoder.ts";
import { tempDir } from "../helpers/server.ts";
import { magickPixels } from "../helpers/tools.ts";
import { encodePng } from "../../workers/ops/png.ts";
import type { Pixels } from "../../workers/ops/pixels.ts";

/** Pixels of one layout: noise (coded with Huffman codes alone) or bands (coded as runs). */
function made(width: number, height: number, layout: "grey" | "rgb" | "greyAlpha" | "rgba", noise: boolean): Pixels {
  const data = new Uint8ClampedArray(width * height * 4);
  let seed = 7;
  const next = () => noise ? (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24 : 0;
  for (let i = 0; i < data.length; i += 4) {
    const row = Math.floor(i / 4 / width);
    const v = (row * 37 + next()) & 255;
    data.set([v, layout.startsWith("grey") ? v : (v + 85) & 255, layout.startsWith("grey") ? v : next()], i);
    data[i + 3] = layout.endsWith("lpha") || layout === "rgba" ? (v * 3 + next()) & 255 : 255;
  }
  return { data, width, height };
}

const TYPES = { grey: 0, rgb: 2, greyAlpha: 4, rgba: 6 } as const;

Deno.test("PNGs of every layout, size and coding decode to exactly the pixels given", async () => {
  await using dir = await tempDir();
  for (const [layout, type] of Object.entries(TYPES) as [keyof typeof TYPES, number][]) {
    for (const [width, height] of [[1, 1], [3, 2], [17, 9], [300, 40]]) {
      for (const noise of [false, true]) {
        const pixels = made(width, height, layout, noise);
        const png = encodePng(pixels, true);
        const name = `${layout} ${width}x${height} ${noise ? "noise" : "bands"}`;
        assertEquals(png[25], type, `${name}: colour type`);
        assertEquals([...(await decode(png)).data], [...pixels.data], name);
        if (width === 17) {
          await Deno.writeFile(`${dir.path}/a.png`, png);
          assertEquals([...(await magickPixels(`${dir.path}/a.png`)).data], [...pixels.data], `${name}, ImageMagick`);
        }
      }
    }
  }
});

Deno.test("a source without alpha gives no alpha channel, whatever the decoded alpha says", async () => {
  const pixels = made(20, 10, "rgba", true);
  const png = encodePng(pixels, false);
  assertEquals(png[25], TYPES.rgb);
  const decoded = await decode(png);
  for (let i = 0; i < pixels.data.length; i += 4) {
    assertEquals([...decoded.data.subarray(i, i + 4)], [...pixels.data.subarray(i, i + 3), 255]);
  }
});

Deno.test("the PNG decoder lends its pixels until the next decode, and copies out a decode that grew it by 32 MiB", async () => {
  await codecs();
  const same = (a: ArrayLike<number>, b: ArrayLike<number>) =>
    a.length === b.length && Array.prototype.every.call(a, (v: number, i: number) => v === b[i]);
  resetPngDecoder();
  const [one, two] = [made(300, 40, "rgba", true), made(17, 9, "grey", false)];
  const first = decodePngFile(encodePng(one, true));
  assert(same(first.data, one.data), "the first decode's pixels");
  assert(first.data.buffer.byteLength > first.data.byteLength, "lent: a view of the decoder's memory, no copy");
  const second = decodePngFile(encodePng(two, true));
  assert(same(second.data, two.data), "the next decode's pixels, where the first one's were freed");
  // 2900x2900 RGBA is 32.1 MiB: the decoder grows by more than WORTH_DROPPING, and decoder_memory.ts makes it afresh.
  const large = made(2900, 2900, "rgb", false);
  const third = decodePngFile(encodePng(large, false));
  resetPngDecoder();
  decodePngFile(encodePng(two, true));
  assertEquals(third.data.buffer.byteLength, third.data.byteLength, "copied out of the decoder's memory");
  assert(same(third.data, large.data), "the large decode's pixels outlive the decoder they came from");
});
