import { assert, assertEquals, assertThrows } from "../helpers/assert.ts";
import { jpeg, png, thirds } from "../helpers/images.ts";
import { pngBomb } from "../helpers/hostile.ts";
import { colourInfo } from "../../workers/ops/icc.ts";
import { ImgserveError } from "../../protocol/error_codes.ts";
import { concat } from "../../shared/bytes.ts";

/** The JPEG with a `size`-byte ICC profile in APP2 segments after its SOI, as cameras split large profiles. */
function withProfile(bytes: Uint8Array, size: number): Uint8Array {
  const per = 65519 - 14;
  const count = Math.ceil(size / per);
  const segments = Array.from({ length: count }, (_, i) => {
    const payload = Math.min(per, size - i * per);
    const segment = new Uint8Array(4 + 14 + payload);
    segment.set([0xff, 0xe2, (payload + 16) >> 8, (payload + 16) & 0xff]);
    segment.set(new TextEncoder().encode("ICC_PROFILE\0"), 4);
    segment.set([i + 1, count], 16);
    return segment;
  });
  return concat([bytes.subarray(0, 2), ...segments, bytes.subarray(2)]);
}

Deno.test("an ICC profile is read up to 4 MiB and refused past it, inflated or not", async () => {
  const photo = await jpeg(thirds(30, 10));
  assertEquals(colourInfo(withProfile(photo, 4 << 20), "jpeg").icc?.length, 4 << 20);
  const stored = assertThrows(() => colourInfo(withProfile(photo, (4 << 20) + 1), "jpeg"), ImgserveError);
  assertEquals([stored.code, stored.message], [
    514,
    "the JPEG's ICC profile is more than 4 MiB, over the limit for embedded profiles",
  ]);
  const image = await png(thirds(30, 10));
  assertEquals(colourInfo(pngBomb(image, "iCCP", 4), "png").icc?.length, 4 << 20);
  const start = performance.now();
  const inflated = assertThrows(() => colourInfo(pngBomb(image, "iCCP", 1024), "png"), ImgserveError);
  assertEquals(inflated.code, 514);
  assert(performance.now() - start < 1_000, `${performance.now() - start} ms`);
});
