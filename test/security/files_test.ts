import { assertEquals, assertThrows } from "../helpers/assert.ts";
import { ImgserveError } from "../../protocol/error_codes.ts";
import { FileRoots } from "../../src/security/files.ts";
import { tempDir } from "../helpers/server.ts";

Deno.test("no --file-root means no file access at all", async () => {
  const roots = await FileRoots.resolve([]);
  assertEquals(assertThrows(() => roots.source("/etc/passwd"), ImgserveError).code, 402);
  assertEquals(assertThrows(() => roots.destination("/tmp/x.png"), ImgserveError).code, 402);
});

Deno.test("paths leaving the root by .., encoded slashes or symlinks are refused", async () => {
  await using dir = await tempDir();
  await Deno.mkdir(`${dir.path}/root/sub`, { recursive: true });
  await Deno.writeTextFile(`${dir.path}/secret.txt`, "secret");
  await Deno.symlink(`${dir.path}/secret.txt`, `${dir.path}/root/link.png`);
  await Deno.symlink(dir.path, `${dir.path}/root/out`);
  const roots = await FileRoots.resolve([`${dir.path}/root`]);
  const refused = (fn: () => unknown) => assertThrows(fn, ImgserveError).code;
  assertEquals(refused(() => roots.source(`${dir.path}/root/../secret.txt`)), 403);
  assertEquals(refused(() => roots.source(`${dir.path}/root/sub/../../secret.txt`)), 403);
  assertEquals(refused(() => roots.source(`${dir.path}/root/link.png`)), 403);
  assertEquals(refused(() => roots.destination(`${dir.path}/root/out/new.png`)), 403);
  assertEquals(refused(() => roots.destination(`${dir.path}/root/link.png`)), 403);
  assertEquals(
    roots.destination(`${dir.path}/root/new/deeper/a.png`),
    `${await Deno.realPath(dir.path)}/root/new/deeper/a.png`,
  );
});
