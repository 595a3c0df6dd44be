/**
 * HEIC sources of the kind phones write (a grid of tiles, irot/imir, an
 * ICC profile), made by Debian's heif-enc around our own grid writer
 * (test/helpers/heif_grid.ts) and checked against libheif's heif-convert;
 * hostile ones (cut, bit-flipped, a huge claimed size, tiles beyond the
 * image) get clear codes and the server goes on serving.
 */
import { assert, assertEquals, assertThrows } from "../helpers/assert.ts";
import { ImgserveError } from "../../protocol/error_codes.ts";
import { decode } from "../helpers/images.ts";
import { assertHealthy, serve, tempDir, type TestServer } from "../helpers/server.ts";
import { magickPixels, psnr, tool } from "../helpers/tools.ts";
import { resizeJob } from "../helpers/jobs.ts";
import { gridHeic, heifEnc, heifFile } from "../helpers/heif_grid.ts";
import { NeedMoreBytes, readHeader } from "../../src/image/header.ts";

const PHOTO = "/usr/share/backgrounds/mate/nature/Garden.jpg";
const SRGB = "/usr/share/color/icc/colord/sRGB.icc";
const ADOBE = "/usr/share/color/icc/compatibleWithAdobeRGB1998.icc";
/** A photo's 150x100 pixels: tiles of 64 make a 3x2 grid, cropped on the right and at the bottom. */
const [W, H, TILE] = [150, 100, 64];

async function photo(dir: string, profile?: string): Promise<string> {
  const path = `${dir}/photo${profile ? "-icc" : ""}.png`;
  await tool("convert", [
    PHOTO,
    "-resize",
    `${W}x${H}!`,
    "-profile",
    SRGB,
    ...(profile ? ["-profile", profile] : []),
    path,
  ]);
  return path;
}

/** heif-convert's decode (libheif applies irot/imir), in sRGB when it carries a profile. */
async function reference(path: string, icc: boolean): Promise<ImageData> {
  await tool("heif-convert", [path, `${path}.ref.png`]);
  return await magickPixels(`${path}.ref.png`, ...(icc ? ["-profile", SRGB] : []));
}

async function resized(imgserve: TestServer, src: string, dst: string, args: Record<string, unknown>) {
  const reply = await imgserve.post(resizeJob(`file://${src}`, `file://${dst}`, args));
  assertEquals(reply.status, 202, JSON.stringify(reply.json));
  return await imgserve.finished(reply.json.id as string);
}

Deno.test("a HEIC's header gives the primary image's size, a grid's whole, turned by irot, without decoding", async () => {
  await using dir = await tempDir();
  const d = dir.path;
  const png = await photo(d);
  const single = readHeader(await heifEnc(png, `${d}/single.heic`), true);
  assertEquals(single, { format: "heic", width: W, height: H, orientation: 1, hasAlpha: false });
  const grid = await gridHeic(d, png, W, H, TILE, { irot: 1, imir: 0 });
  assertEquals(readHeader(grid, true), {
    format: "heic",
    width: H,
    height: W,
    orientation: 5,
    hasAlpha: false,
    codedPixels: 6 * TILE * TILE,
  });
  // An MP4 video is an ISO media file too: refused (205) by its brands, before any meta box.
  const mp4 = new Uint8Array(4096);
  mp4.set([0, 0, 0, 24, ...new TextEncoder().encode("ftypisom"), 0, 0, 2, 0, ...new TextEncoder().encode("isommp42")]);
  mp4.set([0, 1, 0, 0, ...new TextEncoder().encode("mdat")], 24);
  assertEquals(assertThrows(() => readHeader(mp4, false), ImgserveError).code, 205);
  // Every prefix asks for more bytes or reads the same header; none throws anything else.
  for (let n = 0; n < grid.length; n += 7) {
    try {
      assertEquals(readHeader(grid.subarray(0, n), false).width, H);
    } catch (err) {
      assert(err instanceof NeedMoreBytes, `prefix ${n}: ${err}`);
    }
  }
});

Deno.test("HEIC grids with irot, imir and an ICC profile come out as heif-convert shows them, in sRGB", async () => {
  await using dir = await tempDir();
  await using imgserve = await serve();
  const d = dir.path;
  const plain = await photo(d);
  const adobe = await photo(d, ADOBE);
  const icc = await Deno.readFile(ADOBE);
  const cases: [string, string, Parameters<typeof gridHeic>[5]][] = [
    ["plain", plain, {}],
    ["turned-icc", adobe, { irot: 1, icc }],
    ["mirrored", plain, { imir: 0 }],
    ["turned-mirrored", plain, { irot: 3, imir: 1 }],
    ["half-turn-icc", adobe, { irot: 2, imir: 0, icc }],
  ];
  for (const [name, png, layout] of cases) {
    const path = `${d}/${name}.heic`;
    await Deno.writeFile(path, await gridHeic(d, png, W, H, TILE, layout));
    const expected = await reference(path, layout?.icc !== undefined);
    const job = await resized(imgserve, path, `${d}/out/${name}.png`, { width: expected.width, format: "png" });
    assertEquals(job.state, "done", `${name}: ${JSON.stringify(job)}`);
    const result = await decode(await Deno.readFile(`${d}/out/${name}.png`));
    assertEquals([result.width, result.height], [expected.width, expected.height], name);
    const db = psnr(result, expected);
    assert(db >= 35, `${name}: ${db.toFixed(1)} dB against heif-convert`);
    if (layout?.icc) {
      // The same pixels left in Adobe RGB would miss the bar: the profile was applied.
      const unconverted = await magickPixels(`${path}.ref.png`, "+profile", "*");
      assert(psnr(unconverted, expected) < 30, `${name}: the profile makes no difference to test`);
    }
  }
});

Deno.test("a HEIC resized with no format gives a JPEG, its placeholder first at the result's size", async () => {
  await using dir = await tempDir();
  await using imgserve = await serve();
  const d = dir.path;
  const png = await photo(d);
  await Deno.writeFile(`${d}/IMG_0001.heic`, await gridHeic(d, png, W, H, TILE, { irot: 3 }));
  const reply = await imgserve.post(
    resizeJob(`file://${d}/IMG_0001.heic`, `file://${d}/out/{$basename}-{$width}.{$format}`, { width: 50 }),
  );
  assertEquals(reply.status, 202, JSON.stringify(reply.json));
  assertEquals(reply.json.dstURL, `file://${d}/out/IMG_0001-50.jpg`);
  const placeholder = readHeader(await Deno.readFile(`${d}/out/IMG_0001-50.jpg`), true);
  assertEquals([placeholder.format, placeholder.width, placeholder.height], ["jpeg", 50, 75]);
  assertEquals((await imgserve.finished(reply.json.id as string)).state, "done");
  const result = await decode(await Deno.readFile(`${d}/out/IMG_0001-50.jpg`));
  assertEquals([result.width, result.height], [50, 75]);
  const expected = await magickPixels(`${d}/IMG_0001.heic`, "-resize", "50x75!");
  const db = psnr(result, expected);
  assert(db >= 28, `${db.toFixed(1)} dB against ImageMagick's resize of libheif's decode`);
});

/** The byte offset of a box's payload, found by its type in the file. */
function payloadOf(bytes: Uint8Array, type: string, nth = 0): number {
  const code = new TextEncoder().encode(type);
  for (let i = 4, seen = 0; i + 4 <= bytes.length; i++) {
    if (code.every((b, k) => bytes[i + k] === b) && seen++ === nth) return i + 4;
  }
  throw new Error(`no ${type} box`);
}

Deno.test("HEICs claiming a huge size, tiles past the pixel limit or too many tiles are refused from the header", async () => {
  await using dir = await tempDir();
  const d = dir.path;
  // A HEIC may have half of 40000 pixels here, where libheif's own 16 MiB would decide.
  await using imgserve = await serve(["--max-source-pixels", "40000"]);
  const png = await photo(d);
  const grid = await gridHeic(d, png, W, H, TILE);
  // 150x100 is 15000 pixels, under the limit of 20000; its 3x2 tiles of 64 are 24576, over it.
  await Deno.writeFile(`${d}/tiles.heic`, grid);
  const tiles = await imgserve.post(resizeJob(`file://${d}/tiles.heic`, `file://${d}/out/tiles.jpg`, { width: 10 }));
  assertEquals([tiles.status, tiles.json.code], [413, 502], JSON.stringify(tiles.json));
  assert(/grid tiles are 24576 pixels/.test(String(tiles.json.error)), String(tiles.json.error));

  const single = heifFile([await heifEnc(png, `${d}/s.heic`)]);
  const huge = single.slice();
  // The ispe's width and height (after its version and flags): 60000 x 60000.
  const ispe = payloadOf(huge, "ispe") + 4;
  new DataView(huge.buffer).setUint32(ispe, 60000);
  new DataView(huge.buffer).setUint32(ispe + 4, 60000);
  await Deno.writeFile(`${d}/huge.heic`, huge);
  const big = await imgserve.post(resizeJob(`file://${d}/huge.heic`, `file://${d}/out/huge.jpg`, { width: 10 }));
  assertEquals([big.status, big.json.code], [413, 502], JSON.stringify(big.json));
  assert(/60000x60000/.test(String(big.json.error)), String(big.json.error));

  // Six tiles for a grid that needs one: refused from the header.
  const wrong = heifFile(
    await Promise.all([0, 1, 2, 3, 4, 5].map((i) => Deno.readFile(`${d}/tile-${i}.heic`))),
    { grid: { columns: 3, rows: 2, width: 64, height: 64 } },
  );
  await Deno.writeFile(`${d}/wrong.heic`, wrong);
  const refused = await imgserve.post(resizeJob(`file://${d}/wrong.heic`, `file://${d}/out/wrong.jpg`, { width: 10 }));
  assertEquals([refused.status, refused.json.code], [422, 204], JSON.stringify(refused.json));
});

Deno.test("cut and bit-flipped HEICs get clear codes, and the server goes on serving", async () => {
  await using dir = await tempDir();
  const d = dir.path;
  await using imgserve = await serve();
  const png = await photo(d);
  const grid = await gridHeic(d, png, W, H, TILE);
  const single = heifFile([await heifEnc(png, `${d}/s.heic`)]);
  // Cut inside the coded data: 606, and with failOn none libheif still refuses it (601).
  await Deno.writeFile(`${d}/cut.heic`, single.subarray(0, single.length - 200));
  const cut = await resized(imgserve, `${d}/cut.heic`, `${d}/out/cut.jpg`, { width: 40 });
  assertEquals([cut.state, cut.code], ["failed", 606], JSON.stringify(cut));
  assert(/HEIC is damaged/.test(String(cut.error)), String(cut.error));
  const taken = await resized(imgserve, `${d}/cut.heic`, `${d}/out/cut.jpg`, { width: 40, failOn: "none" });
  assertEquals([taken.state, taken.code], ["failed", 601], JSON.stringify(taken));

  // A grid tile libheif cannot decode is a decoding warning: 606; with failOn none the rest of the picture is made.
  const zeroed = grid.slice();
  const data0 = payloadOf(grid, "mdat");
  zeroed.fill(0, data0, data0 + 300);
  await Deno.writeFile(`${d}/tile.heic`, zeroed);
  const tile = await resized(imgserve, `${d}/tile.heic`, `${d}/out/tile.jpg`, { width: 40 });
  assertEquals([tile.state, tile.code], ["failed", 606], JSON.stringify(tile));
  assert(/HEIC is damaged: .*end of file/i.test(String(tile.error)), String(tile.error));
  const rest = await resized(imgserve, `${d}/tile.heic`, `${d}/out/tile.jpg`, { width: 40, failOn: "none" });
  assertEquals(rest.state, "done", JSON.stringify(rest));

  // Flipped bits anywhere: a header code, a decode failure or a result, never a crash or a hang.
  const seen = new Set<string>();
  // Most flips land in the boxes before the coded data (a grid's meta box), some in the data.
  const data = payloadOf(grid, "mdat");
  const spots = [
    ...Array.from({ length: 24 }, (_, i) => Math.floor((i + 0.5) * data / 24)),
    data + 40,
    grid.length - 90,
  ];
  for (const [i, at] of spots.entries()) {
    const flipped = grid.slice();
    flipped[at] ^= 0x5a;
    await Deno.writeFile(`${d}/flip${i}.heic`, flipped);
    const reply = await imgserve.post(
      resizeJob(`file://${d}/flip${i}.heic`, `file://${d}/out/flip${i}.jpg`, { width: 40 }),
    );
    if (reply.status !== 202) {
      assert([204, 205].includes(reply.json.code as number), `flip at ${at}: ${JSON.stringify(reply.json)}`);
      seen.add(String(reply.json.code));
      continue;
    }
    const job = await imgserve.finished(reply.json.id as string);
    assert(job.state === "done" || [601, 606].includes(job.code as number), `flip at ${at}: ${JSON.stringify(job)}`);
    assert(job.state === "done" || /HEIC/.test(String(job.error)), String(job.error));
    seen.add(String(job.code ?? "done"));
  }
  assert(seen.size > 1, `every flip had the same outcome: ${[...seen]}`);
  await assertHealthy(imgserve.base);
  const after = await resized(imgserve, `${d}/s.heic`, `${d}/out/after.jpg`, { width: 30 });
  assertEquals(after.state, "done", JSON.stringify(after));
});

Deno.test("a 10-bit HEIC decodes to 8 bits, and one with alpha keeps it in a PNG by default", async () => {
  await using dir = await tempDir();
  await using imgserve = await serve();
  const d = dir.path;
  await tool("convert", [PHOTO, "-resize", `${W}x${H}!`, "-depth", "16", `PNG48:${d}/deep.png`]);
  await tool("heif-enc", ["-q", "90", "-b", "10", "-p", "preset=ultrafast", "-o", `${d}/deep.heic`, `${d}/deep.png`]);
  const expected = await reference(`${d}/deep.heic`, false);
  const deep = await resized(imgserve, `${d}/deep.heic`, `${d}/out/deep.png`, { width: W, format: "png" });
  assertEquals(deep.state, "done", JSON.stringify(deep));
  const db = psnr(await decode(await Deno.readFile(`${d}/out/deep.png`)), expected);
  assert(db >= 35, `10-bit: ${db.toFixed(1)} dB against heif-convert`);

  await tool("convert", [
    "-size",
    "64x32",
    "xc:none",
    "-fill",
    "red",
    "-draw",
    "rectangle 0,0 31,31",
    `PNG32:${d}/half.png`,
  ]);
  await tool("heif-enc", ["-q", "90", "-p", "preset=ultrafast", "-o", `${d}/half.heic`, `${d}/half.png`]);
  assertEquals(readHeader(await Deno.readFile(`${d}/half.heic`), true).hasAlpha, true);
  const reply = await imgserve.post(
    resizeJob(`file://${d}/half.heic`, `file://${d}/out/half.{$format}`, { width: 32 }),
  );
  assertEquals(reply.json.dstURL, `file://${d}/out/half.png`);
  assertEquals((await imgserve.finished(reply.json.id as string)).state, "done");
  const half = await decode(await Deno.readFile(`${d}/out/half.png`));
  assertEquals([half.width, half.height], [32, 16]);
  const alpha = (x: number) => half.data[(8 * 32 + x) * 4 + 3];
  assert(alpha(4) > 240 && alpha(28) < 15, `alpha ${alpha(4)} ${alpha(28)}`);
});

Deno.test("a HEIC decode runs under --task-timeout-ms: a slow one fails with 603 and the server stays healthy", async () => {
  await using dir = await tempDir();
  await using imgserve = await serve(["--task-timeout-ms", "150", "--max-attempts", "1"]);
  const d = dir.path;
  await tool("convert", [PHOTO, "-resize", "2400x1600!", `${d}/large.png`]);
  await heifEnc(`${d}/large.png`, `${d}/large.heic`);
  const slow = await resized(imgserve, `${d}/large.heic`, `${d}/out/large.jpg`, { width: 100 });
  assertEquals([slow.state, slow.code], ["failed", 603], JSON.stringify(slow));
  // The ended worker is replaced; any job here would race the same short limit, so health is what is asked.
  await assertHealthy(imgserve.base);
});
