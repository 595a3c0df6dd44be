import { assert, assertEquals } from "../helpers/assert.ts";
import { loadFonts } from "../../workers/fonts.ts";
import { tempDir } from "../helpers/server.ts";

Deno.test("--font-dir folders are searched recursively and their families named", async () => {
  await using dir = await tempDir();
  await Deno.mkdir(`${dir.path}/nested/deeper`, { recursive: true });
  await Deno.copyFile("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf", `${dir.path}/nested/deeper/Serif.ttf`);
  await Deno.writeTextFile(`${dir.path}/nested/readme.txt`, "not a font");
  const fonts = await loadFonts([`${dir.path}/missing`, dir.path]);
  assertEquals(fonts.buffers.length, 1);
  assert(fonts.families.has("DejaVu Serif"), [...fonts.families].join(", "));
});
