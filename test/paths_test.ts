import { assertEquals } from "./helpers/assert.ts";
import { beside, dirname } from "../shared/paths.ts";

Deno.test("dirname is the folder part of a path", () => {
  assertEquals(dirname("/srv/img/a.png"), "/srv/img");
  assertEquals(dirname("/srv/img/"), "/srv/img");
  assertEquals(dirname("run/imgserve.pid"), "run");
});

Deno.test("dirname of a file in the root is the root, and of a bare name the current folder", () => {
  assertEquals(dirname("/a.png"), "/");
  assertEquals(dirname("imgserve.pid"), ".");
});

Deno.test("beside names a file in the same folder, keeping a bare path bare", () => {
  assertEquals(beside("/srv/img/a.png", ".imgserve-1.kept"), "/srv/img/.imgserve-1.kept");
  assertEquals(beside("/a.png", ".imgserve-1.kept"), "/.imgserve-1.kept");
  assertEquals(beside("a.png", ".imgserve-1.kept"), ".imgserve-1.kept");
});
