import { assert, assertEquals } from "../helpers/assert.ts";
import { BUNDLED_FONTS, loadFonts, withConcreteFamilies } from "../../workers/fonts.ts";
import { decode } from "../helpers/images.ts";
import { serve, tempDir, testConfig } from "../helpers/server.ts";
import { rasterizeJob } from "../helpers/jobs.ts";

Deno.test("--font-dir folders are searched recursively and their families named", async () => {
  await using dir = await tempDir();
  await Deno.mkdir(`${dir.path}/nested/deeper`, { recursive: true });
  await Deno.copyFile("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf", `${dir.path}/nested/deeper/Serif.ttf`);
  await Deno.writeTextFile(`${dir.path}/nested/readme.txt`, "not a font");
  const fonts = await loadFonts([`${dir.path}/missing`, dir.path]);
  assert(fonts.families.has("DejaVu Serif"), [...fonts.families].join(", "));
  // The folder's serif comes first and the bundled one, the same family, is left out.
  assertEquals(fonts.buffers[0], await Deno.readFile(`${dir.path}/nested/deeper/Serif.ttf`));
  assertEquals(fonts.buffers.length, 3);
  assert(!fonts.buffers.includes(BUNDLED_FONTS[1]));
});

Deno.test("with no font folders at all, the bundled sans, serif and monospace families remain", async () => {
  const fonts = await loadFonts([]);
  assertEquals([...fonts.families], ["DejaVu Sans", "DejaVu Serif", "DejaVu Sans Mono"]);
  assertEquals(testConfig(["--system-font-dir", ""]).fontDirs, []);
});

/** Dark pixels (luma under 128) inside the box where the text is drawn. */
function darkPixels(image: ImageData): number {
  let dark = 0;
  for (let y = 10; y < 70; y++) {
    for (let x = 0; x < image.width; x++) {
      const at = (y * image.width + x) * 4;
      const [r, g, b] = image.data.subarray(at, at + 3);
      if (0.299 * r + 0.587 * g + 0.114 * b < 128) dark++;
    }
  }
  return dark;
}

Deno.test("with the system fonts hidden, SVG text still renders in every family", async () => {
  await using dir = await tempDir();
  await using imgserve = await serve(["--system-font-dir", "", "--workers", "1"]);
  const svg = (text: string) =>
    `<svg xmlns="http://www.w3.org/2000/svg" width="400" height="80">` +
    `<rect width="400" height="80" fill="white"/>${text}</svg>`;
  const render = async (name: string, body: string) => {
    await Deno.writeTextFile(`${dir.path}/${name}.svg`, body);
    const { status, json } = await imgserve.post(
      rasterizeJob(`file://${dir.path}/${name}.svg`, `file://${dir.path}/${name}.png`),
    );
    assertEquals(status, 202, JSON.stringify(json));
    assertEquals((await imgserve.finished(json.id as string)).state, "done");
    return await decode(await Deno.readFile(`${dir.path}/${name}.png`));
  };
  assertEquals(darkPixels(await render("blank", svg(""))), 0);
  const drawn: Record<string, ImageData> = {};
  for (const family of ["sans-serif", "serif", "Nowhere Grotesk", "monospace"]) {
    const text = `<text x="10" y="55" font-family="${family}" font-size="40" fill="black">Hamburgefonts</text>`;
    drawn[family] = await render(family.replace(" ", "-"), svg(text));
    const dark = darkPixels(drawn[family]);
    // About 3000 with DejaVu at this size; an empty render has none.
    assert(dark > 1000, `${family}: ${dark} dark pixels where the text should be`);
  }
  // Each generic family has a face of its own (resvg's WebAssembly build alone would draw all three alike).
  const same = (a: ImageData, b: ImageData) => a.data.every((v, i) => v === b.data[i]);
  assert(!same(drawn["sans-serif"], drawn.serif), "serif text was drawn in the sans");
  assert(!same(drawn["sans-serif"], drawn.monospace), "monospace text was drawn in the sans");
  assert(!same(drawn.serif, drawn.monospace), "monospace text was drawn in the serif");
});

Deno.test("generic families are named concretely in attributes, style attributes and style sheets", async () => {
  const fonts = await loadFonts([]);
  const svg = `<svg><style>.a { font-family: 'Foo', monospace }</style>` +
    `<text font-family="serif">serif</text><text style='fill: red; font-family: sans-serif'>font-family: serif</text>` +
    `<text font-family='"Serif Display", cursive'>x</text></svg>`;
  assertEquals(
    withConcreteFamilies(svg, fonts),
    `<svg><style>.a { font-family: 'Foo', DejaVu Sans Mono, monospace }</style>` +
      `<text font-family="DejaVu Serif, serif">serif</text>` +
      `<text style='fill: red; font-family: DejaVu Sans, sans-serif'>font-family: serif</text>` +
      `<text font-family='"Serif Display", cursive'>x</text></svg>`,
  );
});
