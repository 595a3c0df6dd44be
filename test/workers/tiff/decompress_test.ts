import { deflateSync } from "node:zlib";
import { assertEquals, assertThrows } from "../../helpers/assert.ts";
import { ImgserveError } from "../../../protocol/error_codes.ts";
import { Compression } from "../../../shared/tiff_page.ts";
import { decompress, DeflateError } from "../../../workers/ops/tiff/decompress.ts";

Deno.test("decompress: Deflate data fills exactly the rows' size, and more than that is a bomb (608)", () => {
  const rows = new Uint8Array(4096).map((_, i) => i % 251);
  const [data, given] = decompress(deflateSync(rows), Compression.deflate, 4096, "strip 0");
  assertEquals([given, data.length, data[1000]], [4096, 4096, 1000 % 251]);
  const bomb = deflateSync(new Uint8Array(1 << 20));
  const err = assertThrows(() => decompress(bomb, Compression.deflate, 4096, "strip 3"), ImgserveError);
  assertEquals(err.code, 608);
});

Deno.test("decompress: short data gives zeros past what it had, and cut zlib data is damage", () => {
  const [data, given] = decompress(new Uint8Array([7, 8, 9]), Compression.none, 6, "strip 0");
  assertEquals([given, [...data]], [3, [7, 8, 9, 0, 0, 0]]);
  const cut = deflateSync(new Uint8Array(4096).fill(5)).subarray(0, 6);
  assertThrows(() => decompress(cut, Compression.deflate, 4096, "strip 1"), DeflateError);
});
