import { assertEquals, assertThrows } from "../helpers/assert.ts";
import { ImgserveError } from "../../protocol/error_codes.ts";
import { nameParts, parseDestination, substituteTags, withTagsStoodIn } from "../../src/job/template.ts";

Deno.test("tags take the result size and the source's name, {$ext} as {$extension}", () => {
  const parts = nameParts(new URL("http://host/a/Ex.png"));
  const out = substituteTags("ftp://host/thumbs/{$width}x{$height}-{$basename}.{$ext}.{$extension}", {
    width: 200,
    height: 120,
    ...parts,
    format: "webp",
  });
  assertEquals(out, "ftp://host/thumbs/200x120-Ex.png.png");
});

Deno.test("{$format} is the result format's extension, apart from the source's {$ext}", () => {
  const values = { width: 1, height: 1, ...nameParts(new URL("http://host/a/Ex.png")) };
  assertEquals(substituteTags("file:///t/{$basename}.{$format}", { ...values, format: "webp" }), "file:///t/Ex.webp");
  assertEquals(
    substituteTags("file:///t/{$basename}.{$ext}.{$format}", { ...values, format: "jpg" }),
    "file:///t/Ex.png.jpg",
  );
});

Deno.test("{$frames} is the result's frame count, 1 for a still", () => {
  const values = { width: 1, height: 1, ...nameParts(new URL("http://host/a/Ex.gif")), format: "gif" };
  assertEquals(substituteTags("file:///t/{$basename}-{$frames}.gif", { ...values, frames: 12 }), "file:///t/Ex-12.gif");
  assertEquals(substituteTags("file:///t/{$basename}-{$frames}.gif", values), "file:///t/Ex-1.gif");
});

Deno.test("a name without a dot has an empty extension; encoded names stay encoded", () => {
  assertEquals(nameParts(new URL("http://h/dir/README")), { basename: "README", extension: "" });
  assertEquals(nameParts(new URL("http://h/a%20b.tar.jpg")), { basename: "a%20b.tar", extension: "jpg" });
});

Deno.test("an absurdly long file name is refused with its own code", () => {
  const err = assertThrows(() => parseDestination(`file:///tmp/${"a".repeat(300)}.png`), ImgserveError);
  assertEquals(err.code, 108);
});

Deno.test("withTagsStoodIn puts x for every tag, known or not, so the template parses as a URL", () => {
  assertEquals(withTagsStoodIn("ftp://h/{$basename}_{$width}x{$height}.{$nope}"), "ftp://h/x_xxx.x");
  assertEquals(withTagsStoodIn("http://{$basename}/a.png"), "http://x/a.png");
  assertEquals(withTagsStoodIn("file:///t/no-tags.png"), "file:///t/no-tags.png");
});
