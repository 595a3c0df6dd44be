/**
 * orient: the decoded pixels turned upright as their EXIF orientation
 * says, the stored ones freed. (Every orientation through the whole
 * pipeline: test/workers/orient_test.ts.)
 */
import { orient } from "../../../workers/pipeline/orient.ts";
import { assert, assertEquals } from "../../helpers/assert.ts";
import { BLUE, RED } from "../../helpers/images.ts";
import { at, decoded, pixelsOf, planOf } from "./image.ts";

Deno.test("orientation 6 turns the stored pixels a quarter clockwise and frees them", () => {
  // Stored 400x200: red on the left, blue on the right; large enough to be freed at once.
  const stored = pixelsOf(400, 200, (x) => (x < 200 ? RED : BLUE));
  const source = decoded(stored, planOf(200, 400));
  source.orientation = 6;
  orient(source);
  assertEquals([source.image.width, source.image.height, source.orientation], [200, 400, 1]);
  // Turned clockwise, the stored left (red) is now the top.
  assertEquals([at(source.image, 100, 10), at(source.image, 100, 390)], [RED, BLUE]);
  assert(stored.data.buffer.detached, "the stored pixels are freed");
});

Deno.test("upright pixels are left as they are", () => {
  const image = pixelsOf(4, 2, () => RED);
  const source = decoded(image, planOf(4, 2));
  orient(source);
  assert(source.image === image, "the same pixels");
});
