/** Horizontal differencing undone, on rows differenced here. */
import { assertEquals } from "../../helpers/assert.ts";
import { undoPredictor } from "../../../workers/ops/tiff/predictor.ts";

/** Rows of `samples`-sample pixels, differenced as a TIFF writer does (modulo 2^bits). */
function differenced(values: number[], rowLength: number, samples: number, bits: number): number[] {
  const mod = 2 ** bits;
  return values.map((v, i) => (i % rowLength) < samples ? v : (v - values[i - samples] + mod) % mod);
}

Deno.test("predictor 2 restores 8-bit RGB, grey+alpha and 16-bit samples in either byte order", () => {
  const rgb = Array.from({ length: 2 * 5 * 3 }, (_, i) => (i * 37) % 256);
  const bytes = new Uint8Array(differenced(rgb, 15, 3, 8));
  undoPredictor(bytes, 15, 2, 3, 8, true);
  assertEquals([...bytes], rgb);
  const greyAlpha = Array.from({ length: 3 * 4 * 2 }, (_, i) => (i * 91) % 256);
  const ga = new Uint8Array(differenced(greyAlpha, 8, 2, 8));
  undoPredictor(ga, 8, 3, 2, 8, false);
  assertEquals([...ga], greyAlpha);
  const wide = Array.from({ length: 2 * 4 * 3 }, (_, i) => (i * 4099) % 65536);
  const diff = differenced(wide, 12, 3, 16);
  for (const little of [true, false]) {
    const raw = new Uint8Array(diff.length * 2);
    diff.forEach((v, i) => raw.set(little ? [v & 255, v >> 8] : [v >> 8, v & 255], i * 2));
    undoPredictor(raw, 24, 2, 3, 16, little);
    const back = Array.from(
      { length: wide.length },
      (_, i) => little ? raw[2 * i] | (raw[2 * i + 1] << 8) : (raw[2 * i] << 8) | raw[2 * i + 1],
    );
    assertEquals(back, wide, little ? "little-endian" : "big-endian");
  }
});
