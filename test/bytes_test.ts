import { assert, assertEquals } from "./helpers/assert.ts";
import { concat, ownBuffer } from "../shared/bytes.ts";

Deno.test("concat joins the chunks in order into one new buffer", () => {
  const a = new Uint8Array([1, 2]);
  const joined = concat([a, new Uint8Array([]), new Uint8Array([3, 4, 5])]);
  assertEquals([...joined], [1, 2, 3, 4, 5]);
  assert(joined.buffer !== a.buffer, "a copy, not a view of the first chunk");
});

Deno.test("concat of one chunk is still a copy, and of none an empty buffer", () => {
  const only = new Uint8Array([7, 8]);
  const joined = concat([only]);
  only[0] = 0;
  assertEquals([...joined], [7, 8]);
  assertEquals(concat([]).byteLength, 0);
});

Deno.test("concat takes a size counted by the caller", () => {
  assertEquals([...concat([new Uint8Array([1]), new Uint8Array([2, 3])], 3)], [1, 2, 3]);
});

Deno.test("concat also joins plain arrays of byte values, as the AVIF box builder makes", () => {
  assertEquals([...concat([[0x66, 0x74], new Uint8Array([0x79]), [0x70]])], [0x66, 0x74, 0x79, 0x70]);
});

Deno.test("ownBuffer gives a whole view's buffer itself, and copies a part of a larger one", () => {
  const whole = new Uint8Array([1, 2, 3]);
  assert(ownBuffer(whole) === whole.buffer, "no copy of a view that covers its buffer");
  const part = whole.subarray(1);
  const own = ownBuffer(part);
  assert(own !== whole.buffer, "a copy of a part");
  assertEquals([...new Uint8Array(own)], [2, 3]);
});
