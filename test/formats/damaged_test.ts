/**
 * A job is done only when its result is right: a source that decodes only
 * with a warning (cut short, a bad CRC) fails with 606 unless its args say
 * `"failOn": "none"`, in every format (a TIFF's strip cut short too); and a GIF of thousands of frames is
 * read as its first frame.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { BLUE, decode, near, pixel, RED } from "../helpers/images.ts";
import { serve, tempDir, type TestServer } from "../helpers/server.ts";
import { magickPixels, tool } from "../helpers/tools.ts";
import { resizeJob } from "../helpers/jobs.ts";
import { firstGifFrame } from "../../workers/ops/gif_frame.ts";

/** 1600x1203, 81 KB. */
const PHOTO = "/usr/share/backgrounds/mate/nature/FreshFlower.jpg";
/** 1920x1280 RGB, 2 MB. */
const PNG_PHOTO = "/usr/share/backgrounds/mate/desktop/Ubuntu-Mate-Cold-no-logo.png";

/** Runs a resize of `name` in `dir` with `args` and waits for it; the result goes to out/<name>.png. */
async function outcome(
  imgserve: TestServer,
  dir: string,
  name: string,
  args: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const reply = await imgserve.post(resizeJob(`file://${dir}/${name}`, `file://${dir}/out/${name}.png`, args));
  assertEquals(reply.status, 202, JSON.stringify(reply.json));
  return await imgserve.finished(reply.json.id as string);
}

/** Each damaged file fails with 606 by default and is made at its planned size with failOn none. */
async function assertDamaged(
  imgserve: TestServer,
  dir: string,
  cases: [name: string, args: Record<string, unknown>, size: [number, number]][],
): Promise<void> {
  for (const [name, args, [width, height]] of cases) {
    const refused = await outcome(imgserve, dir, name, args);
    assertEquals([refused.state, refused.code], ["failed", 606], `${name}: ${JSON.stringify(refused)}`);
    assert(/is damaged: .*failOn/.test(String(refused.error)), String(refused.error));
    const taken = await outcome(imgserve, dir, name, { ...args, failOn: "none" });
    assertEquals(taken.state, "done", `${name} with failOn none: ${JSON.stringify(taken)}`);
    const result = await decode(await Deno.readFile(`${dir}/out/${name}.png`));
    assertEquals([result.width, result.height], [width, height], name);
  }
}

Deno.test("a cut JPEG fails with 606 on the scaled, the full-size and the CMYK decode; failOn none makes it", async () => {
  await using dir = await tempDir();
  await using imgserve = await serve();
  const photo = await Deno.readFile(PHOTO);
  await Deno.writeFile(`${dir.path}/cut.jpg`, photo.subarray(0, 3000));
  await tool("convert", [PHOTO, "-resize", "400x", "-colorspace", "CMYK", `${dir.path}/cmyk.jpg`]);
  const cmyk = await Deno.readFile(`${dir.path}/cmyk.jpg`);
  await Deno.writeFile(`${dir.path}/cmyk-cut.jpg`, cmyk.subarray(0, cmyk.length * 0.6));
  await assertDamaged(imgserve, dir.path, [
    // 200 wide decodes at 1/4 through libjpeg-turbo, 1600 wide at full size through MozJPEG.
    ["cut.jpg", { width: 200, format: "png" }, [200, 150]],
    ["cut.jpg", { width: 1600, format: "png" }, [1600, 1203]],
    ["cmyk-cut.jpg", { width: 100, format: "png" }, [100, 75]],
  ]);
  // The whole files still make their results.
  await Deno.writeFile(`${dir.path}/whole.jpg`, photo);
  for (const name of ["whole.jpg", "cmyk.jpg"]) {
    assertEquals((await outcome(imgserve, dir.path, name, { width: 100, format: "png" })).state, "done", name);
  }
});

Deno.test("a cut PNG and one with a bad CRC fail with 606; failOn none makes them, the cut one from the rows it has", async () => {
  await using dir = await tempDir();
  await using imgserve = await serve();
  const whole = await Deno.readFile(PNG_PHOTO);
  await Deno.writeFile(`${dir.path}/cut.png`, whole.subarray(0, whole.length / 2));
  // The last byte of the first IDAT chunk's CRC: the decoder itself never looks at it.
  const view = new DataView(whole.buffer);
  let at = 8;
  while (new TextDecoder().decode(whole.subarray(at + 4, at + 8)) !== "IDAT") at += 12 + view.getUint32(at);
  const badCrc = whole.slice();
  badCrc[at + 11 + view.getUint32(at)] ^= 1;
  await Deno.writeFile(`${dir.path}/crc.png`, badCrc);
  await assertDamaged(imgserve, dir.path, [
    ["cut.png", { width: 160 }, [160, 107]],
    ["crc.png", { width: 160 }, [160, 107]],
  ]);
  // Cut in half: the top rows are the picture, the last ones the zeros after it (opaque black).
  const cut = await decode(await Deno.readFile(`${dir.path}/out/cut.png.png`));
  const reference = await magickPixels(PNG_PHOTO, "-resize", "160x107!");
  assert(
    near(pixel(cut, 80, 10), pixel(reference, 80, 10), 24),
    `top ${pixel(cut, 80, 10)} ${pixel(reference, 80, 10)}`,
  );
  assert(!near(pixel(reference, 80, 10), [0, 0, 0, 255], 24), "the reference's top is not black");
  assert(near(pixel(cut, 80, 105), [0, 0, 0, 255], 8), `bottom ${pixel(cut, 80, 105)}`);
});

Deno.test("cut WebP, GIF, BMP and AVIF sources fail with 606; failOn none makes all but the AVIF", async () => {
  await using dir = await tempDir();
  await using imgserve = await serve();
  const small = `${dir.path}/small.png`;
  await tool("convert", [PHOTO, "-resize", "200x150!", small]);
  await tool("cwebp", ["-quiet", small, "-o", `${dir.path}/a.webp`]);
  await tool("cwebp", ["-quiet", "-lossless", small, "-o", `${dir.path}/lossless.webp`]);
  await tool("convert", [small, `${dir.path}/a.gif`]);
  await tool("convert", [small, `BMP3:${dir.path}/a.bmp`]);
  await tool("avifenc", ["-s", "10", small, `${dir.path}/a.avif`]);
  for (const name of ["a.webp", "lossless.webp", "a.gif", "a.bmp", "a.avif"]) {
    const bytes = await Deno.readFile(`${dir.path}/${name}`);
    await Deno.writeFile(`${dir.path}/cut-${name}`, bytes.subarray(0, bytes.length * 0.6));
    assertEquals((await outcome(imgserve, dir.path, name, { width: 100 })).state, "done", name);
  }
  await assertDamaged(imgserve, dir.path, [
    ["cut-a.webp", { width: 100 }, [100, 75]],
    ["cut-lossless.webp", { width: 100 }, [100, 75]],
    ["cut-a.gif", { width: 100 }, [100, 75]],
    ["cut-a.bmp", { width: 100 }, [100, 75]],
  ]);
  // libavif's AV1 decoder refuses a cut frame, padded or not: 606 by default, and nothing to make with none.
  const avif = await outcome(imgserve, dir.path, "cut-a.avif", { width: 100 });
  assertEquals([avif.state, avif.code], ["failed", 606], JSON.stringify(avif));
  const none = await outcome(imgserve, dir.path, "cut-a.avif", { width: 100, failOn: "none" });
  assertEquals([none.state, none.code], ["failed", 601], JSON.stringify(none));
});

Deno.test("cut animated GIF and WebP fail with 606; failOn none makes the frames there are, still animated", async () => {
  await using dir = await tempDir();
  await using imgserve = await serve();
  const small = `${dir.path}/small.png`;
  await tool("convert", [PHOTO, "-resize", "200x150!", small]);
  await tool("convert", ["-delay", "10", small, "-negate", small, "-flip", small, `${dir.path}/anim.gif`]);
  await tool("img2webp", ["-lossy", "-d", "100", small, small, "-o", `${dir.path}/anim.webp`]);
  const counts: Record<string, number> = {};
  for (const ext of ["gif", "webp"]) {
    const bytes = await Deno.readFile(`${dir.path}/anim.${ext}`);
    // Inside the last frame's data.
    await Deno.writeFile(`${dir.path}/cut.${ext}`, bytes.subarray(0, bytes.length - 600));
    const run = async (failOn: string) => {
      const reply = await imgserve.post(
        resizeJob(`file://${dir.path}/cut.${ext}`, `file://${dir.path}/out/cut-${failOn}.${ext}`, {
          width: 100,
          failOn,
        }),
      );
      assertEquals(reply.status, 202, JSON.stringify(reply.json));
      return await imgserve.finished(reply.json.id as string);
    };
    const refused = await run("warning");
    assertEquals([refused.state, refused.code], ["failed", 606], JSON.stringify(refused));
    assertEquals((await run("none")).state, "done", ext);
    const { stdout } = await new Deno.Command("identify", {
      args: ["-format", "%w %h\n", `${dir.path}/out/cut-none.${ext}`],
    }).output();
    const frames = new TextDecoder().decode(stdout).trim().split("\n");
    assert(frames.every((f) => f === "100 75"), frames.join(","));
    counts[ext] = frames.length;
  }
  // The GIF's last frame is drawn as far as its data go; the WebP's cut frame is left out.
  assertEquals(counts, { gif: 3, webp: 1 });
});

Deno.test("a TIFF whose last strip runs past the end of the file fails with 606; failOn none makes it", async () => {
  await using dir = await tempDir();
  await using imgserve = await serve();
  const path = `${dir.path}/cut.tif`;
  await tool("convert", [PHOTO, "-resize", "400x300!", "-compress", "lzw", path]);
  // libtiff writes its IFD after the strips, so a cut download loses the IFD (204): here the strip table
  // says what a cut strip looks like, its last strip moved to the file's last bytes.
  const bytes = await Deno.readFile(path);
  const view = new DataView(bytes.buffer);
  const ifd = view.getUint32(4, true);
  for (let i = 0; i < view.getUint16(ifd, true); i++) {
    const entry = ifd + 2 + i * 12;
    if (view.getUint16(entry, true) !== 273) continue;
    const count = view.getUint32(entry + 4, true);
    const last = count === 1 ? entry + 8 : view.getUint32(entry + 8, true) + 4 * (count - 1);
    view.setUint32(last, bytes.length - 100, true);
  }
  await Deno.writeFile(path, bytes);
  await assertDamaged(imgserve, dir.path, [["cut.tif", { width: 100 }, [100, 75]]]);
});

Deno.test("failOn is one value for every output of a job, and a damaged source fails them all", async () => {
  await using dir = await tempDir();
  await using imgserve = await serve();
  await Deno.writeFile(`${dir.path}/cut.jpg`, (await Deno.readFile(PHOTO)).subarray(0, 3000));
  const job = (failOns: (string | undefined)[]) => ({
    operationType: "resize",
    srcURL: `file://${dir.path}/cut.jpg`,
    outputs: failOns.map((failOn, i) => ({
      dstURL: `file://${dir.path}/out/${i}.png`,
      args: { width: 100 + i, ...(failOn ? { failOn } : {}) },
    })),
  });
  const mixed = await imgserve.post(job(["none", undefined]));
  assertEquals([mixed.status, mixed.json.code], [400, 104], JSON.stringify(mixed.json));
  assert(/outputs\[1\]\.args\.failOn/.test(String(mixed.json.error)), String(mixed.json.error));
  const unknown = await imgserve.post(job(["truncated"]));
  assertEquals([unknown.status, unknown.json.code], [400, 104], JSON.stringify(unknown.json));
  const refused = await imgserve.post(job([undefined, "warning"]));
  const failed = await imgserve.finished(refused.json.id as string);
  assertEquals([failed.state, failed.code], ["failed", 606], JSON.stringify(failed));
  const taken = await imgserve.post(job(["none", "none"]));
  const done = await imgserve.finished(taken.json.id as string);
  assertEquals(done.state, "done", JSON.stringify(done));
  for (const i of [0, 1]) assertEquals((await decode(await Deno.readFile(`${dir.path}/out/${i}.png`))).width, 100 + i);
});

/** GIF LZW of palette indices below 4 (minimum code size 2), as GIF encoders such as omggif write it. */
function lzw(indices: Uint8Array): Uint8Array {
  const CLEAR = 4, END = 5;
  const bytes: number[] = [];
  let size = 3, next = 6, acc = 0, bits = 0;
  let table = new Map<number, number>();
  const emit = (code: number) => {
    acc |= code << bits;
    for (bits += size; bits >= 8; bits -= 8, acc >>>= 8) bytes.push(acc & 0xff);
  };
  emit(CLEAR);
  let current = indices[0];
  for (const index of indices.subarray(1)) {
    const key = current * 4 + index;
    const known = table.get(key);
    if (known !== undefined) {
      current = known;
      continue;
    }
    emit(current);
    if (next === 4096) {
      emit(CLEAR);
      [size, next, table] = [3, 6, new Map()];
    } else {
      if (next >= 1 << size) size++;
      table.set(key, next++);
    }
    current = index;
  }
  emit(current);
  emit(END);
  if (bits > 0) bytes.push(acc & 0xff);
  return new Uint8Array(bytes);
}

/** A 64x64 animation of `frames` frames: the first all red, the others all blue, 10 ms each. */
function animation(frames: number): Uint8Array {
  const side = 64;
  const screen = [0x47, 0x49, 0x46, 0x38, 0x39, 0x61, side, 0, side, 0, 0xf1, 0, 0];
  const palette = [0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255];
  const frame = (index: number) => {
    const data = lzw(new Uint8Array(side * side).fill(index));
    const blocks: number[] = [];
    for (let at = 0; at < data.length; at += 255) {
      const block = data.subarray(at, at + 255);
      blocks.push(block.length, ...block);
    }
    const control = [0x21, 0xf9, 4, 0x04, 1, 0, 0, 0];
    return new Uint8Array([...control, 0x2c, 0, 0, 0, 0, side, 0, side, 0, 0, 2, ...blocks, 0]);
  };
  const red = frame(1), blue = frame(3);
  const out = new Uint8Array(screen.length + palette.length + red.length + (frames - 1) * blue.length + 1);
  out.set([...screen, ...palette]);
  let at = screen.length + palette.length;
  out.set(red, at);
  for (at += red.length; at < out.length - 1; at += blue.length) out.set(blue, at);
  out[at] = 0x3b;
  return out;
}

Deno.test("a GIF of 5000 frames is over --max-frames (516); under a higher one its first frame is made", async () => {
  await using dir = await tempDir();
  await using refusing = await serve();
  const gif = animation(5000);
  await Deno.writeFile(`${dir.path}/many.gif`, gif);
  const refused = await refusing.post(resizeJob(`file://${dir.path}/many.gif`, `file://${dir.path}/x.png`, {
    width: 32,
  }));
  assertEquals([refused.status, refused.json.code], [413, 516], JSON.stringify(refused.json));
  await using imgserve = await serve(["--max-frames", "5000"]);
  // A valid animation: ImageMagick reads its last frame as blue.
  assert(near(pixel(await magickPixels(`${dir.path}/many.gif[4999]`), 10, 10), BLUE, 2), "the last frame");
  // Screen, palette and the first frame, then a trailer.
  assertEquals(firstGifFrame(gif).bytes, animation(1), "what a one-frame decode is given");
  const job = await outcome(imgserve, dir.path, "many.gif", { width: 32 });
  assertEquals(job.state, "done", JSON.stringify(job));
  const result = await decode(await Deno.readFile(`${dir.path}/out/many.gif.png`));
  assertEquals([result.width, result.height], [32, 32]);
  assert(near(pixel(result, 16, 16), RED, 2), `${pixel(result, 16, 16)}`);
});
