/** TIFF's LZW on code streams written here, bit by bit. */
import { assert, assertEquals, assertThrows } from "../../helpers/assert.ts";
import { decodeLzw, LzwError } from "../../../workers/ops/tiff/lzw.ts";

Deno.test("an LZW strip of a bomb's length stops at the strip's size; corrupt codes are damage", () => {
  // Clear, then 'A' and the ever-longer strings of A's: each code one longer than the last.
  const codes = [256, 65];
  for (let c = 258; c < 4000; c++) codes.push(c);
  const out = new Uint8Array(1000);
  assertEquals(decodeLzw(packCodes(codes), out), 1000);
  assert(out.every((b) => b === 65));
  assertThrows(() => decodeLzw(packCodes([256, 65, 3000]), new Uint8Array(100)), LzwError);
});

/** LZW codes packed MSB-first at TIFF's widths (one code early). */
function packCodes(codes: number[]): Uint8Array {
  const bits: number[] = [];
  let next = 258, width = 9;
  for (const code of codes) {
    for (let b = width - 1; b >= 0; b--) bits.push((code >> b) & 1);
    if (code === 256) {
      next = 258;
      width = 9;
      continue;
    }
    if (bits.length > width) next++;
    if (next + 1 >= 511 && width === 9) width = 10;
    if (next + 1 >= 1023 && width === 10) width = 11;
    if (next + 1 >= 2047 && width === 11) width = 12;
  }
  const out = new Uint8Array(Math.ceil(bits.length / 8));
  bits.forEach((bit, i) => out[i >> 3] |= bit << (7 - (i & 7)));
  return out;
}

Deno.test("LZW decodes a string built from the code just added (KwKwK) and resets at a clear", () => {
  // 'a', then 258 = "aa" before it is in the table, then a clear and 'b'.
  const out = new Uint8Array(8);
  assertEquals(decodeLzw(packCodes([256, 97, 258, 256, 98, 257]), out), 4);
  assertEquals([...out.subarray(0, 4)], [97, 97, 97, 98]);
});
