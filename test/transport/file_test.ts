import { assertEquals, assertThrows } from "../helpers/assert.ts";
import { ImgserveError } from "../../src/job/errors.ts";
import { writeFileAtomic } from "../../src/transport/file.ts";
import { tempDir } from "../helpers/server.ts";

Deno.test("writeFileAtomic replaces the file whole, creates missing folders and leaves no temporary file", async () => {
  await using dir = await tempDir();
  const real = await Deno.realPath(dir.path);
  writeFileAtomic(`${real}/a/b/out.png`, new Uint8Array([1, 2, 3]));
  writeFileAtomic(`${real}/a/b/out.png`, new Uint8Array([4, 5]));
  assertEquals([...await Deno.readFile(`${real}/a/b/out.png`)], [4, 5]);
  assertEquals([...Deno.readDirSync(`${real}/a/b`)].map((e) => e.name), ["out.png"]);
});

Deno.test("writeFileAtomic refuses a folder that is no longer the real one it was checked as", async () => {
  await using dir = await tempDir();
  const real = await Deno.realPath(dir.path);
  await Deno.mkdir(`${real}/elsewhere`);
  await Deno.symlink(`${real}/elsewhere`, `${real}/swapped`);
  const err = assertThrows(() => writeFileAtomic(`${real}/swapped/out.png`, new Uint8Array([1])), ImgserveError);
  assertEquals(err.code, 301);
  assertEquals([...Deno.readDirSync(`${real}/elsewhere`)], []);
});
