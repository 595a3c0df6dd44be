import { assertEquals } from "../helpers/assert.ts";
import { boxShrink, copyRect } from "../../workers/ops/pixels.ts";

function image(width: number, height: number, paint: (x: number, y: number) => number) {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) data.set([paint(x, y), 0, 0, 255], (y * width + x) * 4);
  }
  return { data, width, height };
}

Deno.test("box shrink of a rectangle averages only that rectangle, as crop-then-shrink would", () => {
  const src = image(12, 8, (x, y) => x * 20 + y);
  const rect = { x: 3, y: 2, width: 6, height: 4 };
  const inPlace = boxShrink(src, 2, 2, rect);
  const copied = boxShrink(copyRect(src, rect.x, rect.y, rect.width, rect.height), 2, 2);
  assertEquals([inPlace.width, inPlace.height], [3, 2]);
  assertEquals([...inPlace.data], [...copied.data]);
  // The top-left output pixel averages x 3-4, y 2-3: (60+80+60+80 + 2+2+3+3) / 4 = 72.5 -> 73.
  assertEquals(inPlace.data[0], 73);
});
