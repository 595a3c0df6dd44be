import { assertEquals, assertThrows } from "../helpers/assert.ts";
import { ImgserveError } from "../../protocol/error_codes.ts";
import { replaceThroughTemp, writeNew } from "../../shared/local_file.ts";
import { tempDir } from "../helpers/server.ts";

Deno.test("replaceThroughTemp puts the new file in place and keeps the earlier one when asked", async () => {
  await using dir = await tempDir();
  const [path, temp, kept] = ["out.png", ".t.tmp", ".k.kept"].map((name) => `${dir.path}/${name}`);
  await Deno.writeFile(path, new Uint8Array([1]));
  assertEquals(replaceThroughTemp(path, temp, () => writeNew(temp, new Uint8Array([2])), kept), true);
  assertEquals([[...await Deno.readFile(path)], [...await Deno.readFile(kept)]], [[2], [1]]);
  assertEquals(replaceThroughTemp(path, temp, () => writeNew(temp, new Uint8Array([3]))), false);
  assertEquals([...Deno.readDirSync(dir.path)].map((e) => e.name).sort(), [".k.kept", "out.png"]);
});

Deno.test("replaceThroughTemp leaves no temporary file and puts the kept file back when any step fails", async () => {
  await using dir = await tempDir();
  const [path, temp, kept] = ["out.png", ".t.tmp", ".k.kept"].map((name) => `${dir.path}/${name}`);
  await Deno.writeFile(path, new Uint8Array([1]));
  const names = () => [...Deno.readDirSync(dir.path)].map((e) => e.name).sort();

  // The write fails half-way: the part written goes.
  const half = assertThrows(() =>
    replaceThroughTemp(path, temp, () => {
      writeNew(temp, new Uint8Array([9]));
      throw new Error("disk full");
    }, kept), ImgserveError);
  assertEquals([half.name, names()], ["DESTINATION_NOT_WRITABLE", ["out.png"]]);

  // The rename fails after the earlier file was kept: the keeping is undone.
  const rename = assertThrows(() => replaceThroughTemp(path, temp, () => {}, kept), ImgserveError);
  assertEquals([rename.name, names(), [...await Deno.readFile(path)]], ["DESTINATION_NOT_WRITABLE", ["out.png"], [1]]);
});
