import { assert, assertEquals } from "../helpers/assert.ts";
import { BLUE, decode, near, pixel, RED } from "../helpers/images.ts";
import { serve, tempDir } from "../helpers/server.ts";
import { magickPixels, psnr, tool } from "../helpers/tools.ts";
import { readHeader } from "../../src/image/header.ts";
import { resizeJob } from "../helpers/jobs.ts";

const PHOTO = "/usr/share/backgrounds/gnome/vnc-l.webp";
/** 1600x1203, many colours (the one above has two once cut to 16). */
const FLOWER = "/usr/share/backgrounds/mate/nature/FreshFlower.jpg";

Deno.test("GIF and BMP sizes come from the logical screen and the info header", async () => {
  await using dir = await tempDir();
  await tool("convert", ["-size", "41x23", "xc:red", `${dir.path}/a.gif`]);
  await tool("convert", ["-size", "41x23", "xc:red", `BMP3:${dir.path}/a.bmp`]);
  await tool("convert", ["-size", "41x23", "xc:red", `BMP2:${dir.path}/os2.bmp`]);
  for (const [name, format] of [["a.gif", "gif"], ["a.bmp", "bmp"], ["os2.bmp", "bmp"]]) {
    const header = readHeader(await Deno.readFile(`${dir.path}/${name}`), true);
    assertEquals([header.format, header.width, header.height], [format, 41, 23], name);
  }
});

Deno.test("an animated GIF to PNG gives its first frame, with transparency kept, named by {$format}", async () => {
  await using dir = await tempDir();
  await using imgserve = await serve();
  // Frame one: left half red, right half transparent; frame two: all blue.
  await tool("convert", [
    ...["-delay", "10", "-dispose", "previous", "(", "-size", "40x30", "xc:none", "-fill", "red"],
    ...["-draw", "rectangle 0,0 19,29", ")", "(", "-size", "40x30", "xc:blue", ")", `${dir.path}/anim.gif`],
  ]);
  const reply = await imgserve.post(
    resizeJob(`file://${dir.path}/anim.gif`, `file://${dir.path}/out/{$basename}.{$format}`, {
      width: 40,
      format: "png",
    }),
  );
  assertEquals(reply.status, 202, JSON.stringify(reply.json));
  assertEquals(reply.json.dstURL, `file://${dir.path}/out/anim.png`);
  assertEquals((await imgserve.finished(reply.json.id as string)).state, "done");
  const result = await decode(await Deno.readFile(`${dir.path}/out/anim.png`));
  assertEquals([result.width, result.height], [40, 30]);
  assert(near(pixel(result, 5, 15), RED, 2), `left ${pixel(result, 5, 15)}`);
  assertEquals(pixel(result, 35, 15)[3], 0);
  assert(!near(pixel(result, 5, 15), BLUE));
});

Deno.test("BMPs (24-bit, 32-bit with alpha, top-down) resize like ImageMagick's reading of them", async () => {
  await using dir = await tempDir();
  await using imgserve = await serve();
  await tool("convert", [PHOTO, "-resize", "120x90!", `BMP3:${dir.path}/p24.bmp`]);
  await tool("convert", [
    PHOTO,
    "-resize",
    "120x90!",
    "-alpha",
    "set",
    "-channel",
    "A",
    "-fx",
    "i<60?1:0.5",
    `BMP:${dir.path}/p32.bmp`,
  ]);
  // A top-down BMP: the same rows with a negative height in the header and the rows in reverse order.
  const bottomUp = await Deno.readFile(`${dir.path}/p24.bmp`);
  const view = new DataView(bottomUp.buffer);
  const offset = view.getUint32(10, true);
  const stride = Math.ceil(120 * 3 / 4) * 4;
  const topDown = bottomUp.slice();
  new DataView(topDown.buffer).setInt32(22, -90, true);
  for (let y = 0; y < 90; y++) {
    topDown.set(bottomUp.subarray(offset + y * stride, offset + (y + 1) * stride), offset + (89 - y) * stride);
  }
  await Deno.writeFile(`${dir.path}/topdown.bmp`, topDown);
  for (const name of ["p24.bmp", "p32.bmp", "topdown.bmp"]) {
    const reply = await imgserve.post(
      resizeJob(`file://${dir.path}/${name}`, `file://${dir.path}/out/${name}.{$format}`, { width: 120 }),
    );
    assertEquals(reply.status, 202, JSON.stringify(reply.json));
    assertEquals((await imgserve.finished(reply.json.id as string)).state, "done", name);
    const result = await decode(await Deno.readFile(`${dir.path}/out/${name}.png`));
    const reference = await magickPixels(`${dir.path}/${name === "topdown.bmp" ? "p24.bmp" : name}`);
    const db = psnr(result, reference);
    assert(db > 40, `${name}: PSNR ${db.toFixed(1)} dB`);
    if (name === "p32.bmp") assert(pixel(result, 100, 10)[3] < 140 && pixel(result, 10, 10)[3] === 255, "alpha");
  }
});

/** `pixels` (4-bit palette indices, bottom row first, `width` a row) as RLE4 runs, each row ended, then the bitmap. */
function rle4(pixels: number[][]): Uint8Array {
  const out: number[] = [];
  for (const row of pixels) {
    for (let x = 0; x < row.length;) {
      let run = 1;
      while (x + run < row.length && run < 255 && row[x + run] === row[x]) run++;
      out.push(run, (row[x] << 4) | row[x]);
      x += run;
    }
    out.push(0, 0);
  }
  out.push(0, 1);
  return new Uint8Array(out);
}

/** A 4-bit uncompressed BMP rewritten as RLE4, the way ImageMagick writes RLE8: an end of line after every row. */
function asRle4(bmp: Uint8Array): Uint8Array {
  const view = new DataView(bmp.buffer, bmp.byteOffset);
  const offset = view.getUint32(10, true), width = view.getInt32(18, true), height = view.getInt32(22, true);
  const stride = Math.ceil(width / 8) * 4;
  const rows = Array.from(
    { length: height },
    (_, y) => Array.from({ length: width }, (_, x) => (bmp[offset + y * stride + (x >> 1)] >> (x & 1 ? 0 : 4)) & 15),
  );
  const data = rle4(rows);
  const out = new Uint8Array(offset + data.length);
  out.set(bmp.subarray(0, offset));
  out.set(data, offset);
  const header = new DataView(out.buffer);
  header.setUint32(2, out.length, true);
  header.setUint32(30, 2, true);
  header.setUint32(34, data.length, true);
  return out;
}

Deno.test("RLE8 BMPs from ImageMagick (an end of line after the last row) and RLE4 ones decode like ImageMagick reads them", async () => {
  await using dir = await tempDir();
  await using imgserve = await serve();
  const small = ["-resize", "160x120!"];
  await tool("convert", [FLOWER, ...small, "-colors", "200", "-compress", "RLE", `BMP3:${dir.path}/rle8.bmp`]);
  await tool("convert", [FLOWER, ...small, "-colors", "16", `BMP3:${dir.path}/four.bmp`]);
  const four = await Deno.readFile(`${dir.path}/four.bmp`);
  assertEquals(new DataView(four.buffer).getUint16(28, true), 4, "ImageMagick wrote a 4-bit BMP");
  await Deno.writeFile(`${dir.path}/rle4.bmp`, asRle4(four));
  for (const name of ["rle8.bmp", "rle4.bmp"]) {
    const reply = await imgserve.post(
      resizeJob(`file://${dir.path}/${name}`, `file://${dir.path}/out/${name}.{$format}`, { width: 160 }),
    );
    assertEquals(reply.status, 202, JSON.stringify(reply.json));
    const job = await imgserve.finished(reply.json.id as string);
    assertEquals(job.state, "done", `${name}: ${JSON.stringify(job)}`);
    const result = await decode(await Deno.readFile(`${dir.path}/out/${name}.png`));
    const db = psnr(result, await magickPixels(`${dir.path}/${name}`));
    assert(db > 40, `${name}: PSNR ${db.toFixed(1)} dB`);
  }
});

Deno.test("a 4000x4000 GIF (over the 48 MiB libnsgif was built to allow) and an interlaced one decode like ImageMagick reads them", async () => {
  await using dir = await tempDir();
  await using imgserve = await serve();
  await tool("convert", ["-size", "4000x4000", "gradient:red-blue", `${dir.path}/large.gif`]);
  await tool("convert", [PHOTO, "-resize", "300x200!", "-interlace", "GIF", `${dir.path}/interlaced.gif`]);
  for (const [name, width, height] of [["large.gif", 400, 400], ["interlaced.gif", 300, 200]] as const) {
    const reply = await imgserve.post(
      resizeJob(`file://${dir.path}/${name}`, `file://${dir.path}/out/${name}.{$format}`, { width, height }),
    );
    assertEquals(reply.status, 202, JSON.stringify(reply.json));
    const job = await imgserve.finished(reply.json.id as string);
    assertEquals(job.state, "done", `${name}: ${JSON.stringify(job)}`);
    const result = await decode(await Deno.readFile(`${dir.path}/out/${name}.png`));
    const options = name === "large.gif" ? ["-resize", "400x400!"] : [];
    const db = psnr(result, await magickPixels(`${dir.path}/${name}`, ...options));
    assert(db > 35, `${name}: PSNR ${db.toFixed(1)} dB`);
  }
});

Deno.test("a GIF whose first frame goes past its screen (65535x65535 in 41x23) is refused as corrupt before the reply", async () => {
  await using dir = await tempDir();
  await using imgserve = await serve();
  await tool("convert", ["-size", "41x23", "xc:red", `${dir.path}/small.gif`]);
  const bytes = await Deno.readFile(`${dir.path}/small.gif`);
  // The image descriptor: 2C, left 0, top 0, width 41, height 23.
  const at = bytes.findIndex((_, i) => [0x2c, 0, 0, 0, 0, 41, 0, 23, 0].every((b, j) => bytes[i + j] === b));
  assert(at > 0, "no image descriptor found");
  bytes.set([0xff, 0xff, 0xff, 0xff], at + 5);
  await Deno.writeFile(`${dir.path}/past.gif`, bytes);
  const reply = await imgserve.post(
    resizeJob(`file://${dir.path}/past.gif`, `file://${dir.path}/past.png`, { width: 20 }),
  );
  // The walk that counts its frames finds it, so nothing is decoded or allocated for it.
  assertEquals([reply.status, reply.json.code], [422, 204], JSON.stringify(reply.json));
});
