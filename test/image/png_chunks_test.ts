import { assert, assertEquals } from "../helpers/assert.ts";
import { codecs, png, thirds } from "../helpers/images.ts";
import { pngBomb, withPngChunk } from "../helpers/hostile.ts";
import { pngForDecoder, walkPngChunks } from "../../workers/ops/png_chunks.ts";
import decodePng from "@jsquash/png/decode.js";

const types = (bytes: Uint8Array) => {
  const found: string[] = [];
  walkPngChunks(bytes, ({ type }) => void found.push(type));
  return found;
};

Deno.test("the PNG decoder gets the critical chunks and tRNS, never text, profiles or EXIF", async () => {
  await codecs();
  const plain = await png(thirds(30, 10));
  assertEquals(types(plain), ["IHDR", "IDAT", "IEND"]);
  assert(pngForDecoder(plain) === plain, "nothing to leave out: the same bytes");
  let busy = pngBomb(plain, "zTXt", 64);
  busy = withPngChunk(busy, "tEXt", new TextEncoder().encode("Title\0hello"));
  busy = withPngChunk(busy, "eXIf", new Uint8Array(100));
  busy = pngBomb(busy, "iCCP", 64);
  assertEquals(types(busy), ["IHDR", "iCCP", "eXIf", "tEXt", "zTXt", "IDAT", "IEND"]);
  const cut = pngForDecoder(busy);
  assertEquals(types(cut), ["IHDR", "IDAT", "IEND"]);
  const image = await decodePng(cut as unknown as ArrayBuffer);
  assertEquals([image.width, image.height, ...image.data.subarray(0, 4)], [30, 10, 255, 0, 0, 255]);
  // Transparency is pixels: kept, as is any critical chunk, known or not, for the decoder to judge.
  const kept = withPngChunk(withPngChunk(busy, "tRNS", new Uint8Array(6)), "ABCD", new Uint8Array(1));
  assertEquals(types(pngForDecoder(kept)), ["IHDR", "ABCD", "tRNS", "IDAT", "IEND"]);
});
