import { assertEquals } from "./helpers/assert.ts";
import { dirname } from "../src/paths.ts";

Deno.test("dirname is the folder part of a path", () => {
  assertEquals(dirname("/srv/img/a.png"), "/srv/img");
  assertEquals(dirname("/srv/img/"), "/srv/img");
  assertEquals(dirname("run/imgserve.pid"), "run");
});

Deno.test("dirname of a file in the root is the root, and of a bare name the current folder", () => {
  assertEquals(dirname("/a.png"), "/");
  assertEquals(dirname("imgserve.pid"), ".");
});
