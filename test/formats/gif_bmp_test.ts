import { assert, assertEquals } from "../helpers/assert.ts";
import { BLUE, decode, near, pixel, RED } from "../helpers/images.ts";
import { serve, tempDir } from "../helpers/server.ts";
import { magickPixels, psnr, tool } from "../helpers/tools.ts";
import { readHeader } from "../../src/image/header.ts";
import { resizeJob } from "../helpers/jobs.ts";

const PHOTO = "/usr/share/backgrounds/gnome/vnc-l.webp";

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

Deno.test("an animated GIF gives its first frame, with transparency kept, as PNG named by {$format}", async () => {
  await using dir = await tempDir();
  await using imgserve = await serve();
  // Frame one: left half red, right half transparent; frame two: all blue.
  await tool("convert", [
    ...["-delay", "10", "-dispose", "previous", "(", "-size", "40x30", "xc:none", "-fill", "red"],
    ...["-draw", "rectangle 0,0 19,29", ")", "(", "-size", "40x30", "xc:blue", ")", `${dir.path}/anim.gif`],
  ]);
  const reply = await imgserve.post(
    resizeJob(`file://${dir.path}/anim.gif`, `file://${dir.path}/out/{$basename}.{$format}`, { width: 40 }),
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
