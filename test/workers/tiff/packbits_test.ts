/** PackBits on the example of Apple's Technical Note TN1023. */
import { assertEquals } from "../../helpers/assert.ts";
import { decodePackBits } from "../../../workers/ops/tiff/packbits.ts";

const PACKED = [0xfe, 0xaa, 0x02, 0x80, 0x00, 0x2a, 0xfd, 0xaa, 0x03, 0x80, 0x00, 0x2a, 0x22, 0xf7, 0xaa];
const UNPACKED = [
  ...[0xaa, 0xaa, 0xaa, 0x80, 0x00, 0x2a, 0xaa, 0xaa, 0xaa, 0xaa, 0x80, 0x00, 0x2a, 0x22],
  ...[0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa],
];

Deno.test("PackBits unpacks runs and literal spans as TN1023 shows", () => {
  const out = new Uint8Array(UNPACKED.length);
  assertEquals(decodePackBits(new Uint8Array(PACKED), out), UNPACKED.length);
  assertEquals([...out], UNPACKED);
});

Deno.test("PackBits stops at the output's size and says how much a cut span gave", () => {
  const short = new Uint8Array(5);
  assertEquals(decodePackBits(new Uint8Array(PACKED), short), 5);
  assertEquals([...short], UNPACKED.slice(0, 5));
  // A literal span of 4 cut after 2 bytes; a run of 128 bytes into 10.
  assertEquals(decodePackBits(new Uint8Array([3, 1, 2]), new Uint8Array(8)), 2);
  assertEquals(decodePackBits(new Uint8Array([0x81, 7]), new Uint8Array(10)), 10);
});
