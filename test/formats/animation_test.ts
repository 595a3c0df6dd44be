import { assert, assertEquals } from "../helpers/assert.ts";
import { decode, near, pixel } from "../helpers/images.ts";
import { httpServer, serve, tempDir } from "../helpers/server.ts";
import { tool } from "../helpers/tools.ts";
import { resizeJob } from "../helpers/jobs.ts";
import { readHeader } from "../../src/image/header.ts";

/** Runs a tool and gives its standard output. */
async function output(command: string, args: string[]): Promise<string> {
  const { success, stdout, stderr } = await new Deno.Command(command, { args, stdout: "piped", stderr: "piped" })
    .output();
  if (!success) throw new Error(`${command} ${args.join(" ")}: ${new TextDecoder().decode(stderr)}`);
  return new TextDecoder().decode(stdout);
}

/** Each frame of a GIF or WebP as ImageMagick reads it: "width height delay(1/100 s)". */
async function magickFrames(path: string): Promise<string[]> {
  return (await output("identify", ["-format", "%w %h %T\n", path])).trim().split("\n");
}

/** The loop count ImageMagick reads ("Iterations"). */
async function magickLoop(path: string): Promise<string> {
  return /Iterations: (\d+)/.exec(await output("identify", ["-verbose", path]))?.[1] ?? "none";
}

/** webpmux's frame rows: "width height duration" for each frame, and its loop count. */
async function webpmuxInfo(path: string): Promise<{ frames: string[]; loop: number }> {
  const info = await output("webpmux", ["-info", path]);
  const loop = Number(/Loop Count : (\d+)/.exec(info)?.[1]);
  const frames = [...info.matchAll(/^\s*\d+:\s+(\d+)\s+(\d+)\s+\w+\s+\d+\s+\d+\s+(\d+)/gm)].map((m) =>
    `${m[1]} ${m[2]} ${m[3]}`
  );
  return { frames, loop };
}

/**
 * Frame i of a result, as RGBA: a GIF's as ImageMagick coalesces it; a WebP's taken out by webpmux and decoded by
 * dwebp (our WebP frames are whole canvases; ImageMagick 6 blends every WebP frame, even one that replaces).
 */
async function frameOf(path: string, i: number): Promise<ImageData> {
  if (path.endsWith(".webp") && (await output("webpmux", ["-info", path])).includes("animation")) {
    await tool("webpmux", ["-get", "frame", String(i + 1), path, "-o", `${path}.${i}.webp`]);
    await tool("dwebp", ["-quiet", `${path}.${i}.webp`, "-o", `${path}.${i}.png`]);
  } else {
    await tool("convert", [path, "-coalesce", `PNG32:${path}.%d.png`]);
  }
  return await decode(await Deno.readFile(`${path}.${i}.png`));
}

/** Three 64x48 frames, red, green, blue: shown 10, 20 and 30 hundredths, looped 3 times. */
async function rgbFrames(dir: string): Promise<string[]> {
  const names = ["red", "lime", "blue"].map((colour) => `${dir}/${colour}.png`);
  for (const [i, colour] of ["red", "lime", "blue"].entries()) {
    await tool("convert", ["-size", "64x48", `xc:${colour}`, names[i]]);
  }
  return names;
}

async function animatedGif(dir: string): Promise<string> {
  const [r, g, b] = await rgbFrames(dir);
  const path = `${dir}/anim.gif`;
  await tool("convert", ["-delay", "10", "-loop", "3", r, "-delay", "20", g, "-delay", "30", b, path]);
  return path;
}

async function animatedWebp(dir: string): Promise<string> {
  const [r, g, b] = await rgbFrames(dir);
  const path = `${dir}/anim.webp`;
  await tool("img2webp", ["-loop", "3", "-lossless", "-d", "100", r, "-d", "200", g, "-d", "300", b, "-o", path]);
  return path;
}

const RED = [255, 0, 0, 255], GREEN = [0, 255, 0, 255], BLUE = [0, 0, 255, 255];

Deno.test("an animated GIF stays an animated GIF: every frame resized, delays and loop count kept", async () => {
  await using dir = await tempDir();
  await using imgserve = await serve();
  const src = await animatedGif(dir.path);
  const reply = await imgserve.post(
    resizeJob(`file://${src}`, `file://${dir.path}/out/{$basename}-{$frames}.{$format}`, { width: 32, height: 32 }),
  );
  assertEquals(reply.status, 202, JSON.stringify(reply.json));
  assertEquals(reply.json.dstURL, `file://${dir.path}/out/anim-3.gif`);
  const status = await imgserve.finished(reply.json.id as string);
  assertEquals(status.state, "done", JSON.stringify(status));
  const out = `${dir.path}/out/anim-3.gif`;
  assertEquals(await magickFrames(out), ["32 32 10", "32 32 20", "32 32 30"]);
  assertEquals(await magickLoop(out), "3");
  for (const [i, colour] of [RED, GREEN, BLUE].entries()) {
    const frame = await frameOf(out, i);
    assert(near(pixel(frame, 16, 16), colour as never, 8), `frame ${i}: ${pixel(frame, 16, 16)}`);
  }
});

Deno.test("an animated WebP stays an animated WebP, and a GIF becomes one when the destination asks", async () => {
  await using dir = await tempDir();
  await using imgserve = await serve();
  const webp = await animatedWebp(dir.path);
  const reply = await imgserve.post(
    resizeJob(`file://${webp}`, `file://${dir.path}/out/w.{$format}`, { width: 40, lossless: true }),
  );
  assertEquals(reply.status, 202, JSON.stringify(reply.json));
  assertEquals((await imgserve.finished(reply.json.id as string)).state, "done");
  const info = await webpmuxInfo(`${dir.path}/out/w.webp`);
  assertEquals(info, { frames: ["40 30 100", "40 30 200", "40 30 300"], loop: 3 });
  for (const [i, colour] of [RED, GREEN, BLUE].entries()) {
    const frame = await frameOf(`${dir.path}/out/w.webp`, i);
    assert(near(pixel(frame, 20, 15), colour as never, 8), `frame ${i}: ${pixel(frame, 20, 15)}`);
  }
  const gif = await animatedGif(dir.path);
  const second = await imgserve.post(
    resizeJob(`file://${gif}`, `file://${dir.path}/out/g.webp`, { width: 40, format: "webp" }),
  );
  assertEquals((await imgserve.finished(second.json.id as string)).state, "done");
  assertEquals(await webpmuxInfo(`${dir.path}/out/g.webp`), {
    frames: ["40 30 100", "40 30 200", "40 30 300"],
    loop: 3,
  });
});

Deno.test("args.frame takes one frame, animated false the first; PNG and JPEG take a frame; past the last is 128", async () => {
  await using dir = await tempDir();
  await using imgserve = await serve();
  const src = `file://${await animatedGif(dir.path)}`;
  const cases: [Record<string, unknown>, string, number[]][] = [
    [{ frame: 1 }, "f1.gif", GREEN],
    [{ animated: false }, "still.gif", RED],
    [{ format: "png" }, "first.png", RED],
    [{ format: "jpeg", frame: 2 }, "f2.jpg", BLUE],
    [{ format: "png", frame: 1 }, "f1.png", GREEN],
  ];
  for (const [args, name, colour] of cases) {
    const reply = await imgserve.post(resizeJob(src, `file://${dir.path}/out/${name}`, { width: 20, ...args }));
    assertEquals(reply.status, 202, JSON.stringify(reply.json));
    assertEquals((await imgserve.finished(reply.json.id as string)).state, "done", name);
    if (name.endsWith(".gif")) assertEquals(await magickFrames(`${dir.path}/out/${name}`), ["20 15 0"], name);
    const frame = await frameOf(`${dir.path}/out/${name}`, 0);
    assert(near(pixel(frame, 10, 7), colour as never, 8), `${name}: ${pixel(frame, 10, 7)}`);
  }
  // A .png destination without a format takes the first frame as a PNG, as it always did.
  const png = await imgserve.post(resizeJob(src, `file://${dir.path}/out/plain.png`, { width: 20 }));
  assertEquals((await imgserve.finished(png.json.id as string)).state, "done");
  assertEquals(readHeader(await Deno.readFile(`${dir.path}/out/plain.png`), true).format, "png");
  const past = await imgserve.post(resizeJob(src, `file://${dir.path}/out/x.gif`, { width: 20, frame: 3 }));
  assertEquals([past.status, past.json.code], [400, 128], JSON.stringify(past.json));
  const still = await imgserve.post(
    resizeJob(`file://${dir.path}/red.png`, `file://${dir.path}/out/x.png`, { width: 20, frame: 1 }),
  );
  assertEquals([still.status, still.json.code], [400, 128], JSON.stringify(still.json));
});

Deno.test("--max-frames (516) and --max-animation-pixels (517) refuse an animation before the reply", async () => {
  await using dir = await tempDir();
  const gif = `file://${await animatedGif(dir.path)}`;
  const webp = `file://${await animatedWebp(dir.path)}`;
  {
    await using imgserve = await serve(["--max-frames", "2"]);
    for (const src of [gif, webp]) {
      const reply = await imgserve.post(resizeJob(src, `file://${dir.path}/out/x.{$ext}`, { width: 20 }));
      assertEquals([reply.status, reply.json.code], [413, 516], JSON.stringify(reply.json));
    }
  }
  // The source: 3 frames of 64x48 is 9216 pixels; an 80x60 result's 3 frames are 14400, a 40x30 one's 3600.
  await using imgserve = await serve(["--max-animation-pixels", "9000"]);
  const source = await imgserve.post(resizeJob(gif, `file://${dir.path}/out/x.gif`, { width: 20 }));
  assertEquals([source.status, source.json.code], [413, 517], JSON.stringify(source.json));
  await using wider = await serve(["--max-animation-pixels", "9216"]);
  const result = await wider.post(resizeJob(webp, `file://${dir.path}/out/x.webp`, { width: 80, height: 60 }));
  assertEquals([result.status, result.json.code], [413, 517], JSON.stringify(result.json));
  const fits = await wider.post(resizeJob(webp, `file://${dir.path}/out/x.webp`, { width: 40 }));
  assertEquals(fits.status, 202, JSON.stringify(fits.json));
  assertEquals((await wider.finished(fits.json.id as string)).state, "done");
});

Deno.test("frames drawn over one another, disposed and cropped alike match ImageMagick's coalesced frames", async () => {
  await using dir = await tempDir();
  await using imgserve = await serve();
  // A 90x60 base of three bands, then a transparent-edged square moving over it, disposed "previous",
  // then one disposed "background" that clears its area to transparent.
  const base = `${dir.path}/base.png`, square = `${dir.path}/square.png`;
  await tool("convert", ["-size", "30x60", "xc:red", "xc:lime", "xc:blue", "+append", base]);
  await tool("convert", ["-size", "20x20", "xc:none", "-fill", "yellow", "-draw", "rectangle 3,3 16,16", square]);
  const gif = `${dir.path}/moving.gif`;
  await tool("convert", [
    ...["-delay", "7", "-loop", "0", "-dispose", "none", base, "-dispose", "previous"],
    ...["-page", "+10+10", square, "-page", "+40+30", square, "-dispose", "background", "-page", "+60+5", square],
    ...["-dispose", "none", "-page", "+0+40", square],
    gif,
  ]);
  const webp = `${dir.path}/moving.webp`;
  await tool("gif2webp", ["-quiet", "-lossy", "-q", "95", gif, "-o", webp]);
  // ImageMagick's own composite of the GIF (gif2webp made the WebP to show the same), cropped to the centre square
  // and resized as ours are.
  await tool(
    "convert",
    [gif, "-coalesce", "-gravity", "center", "-crop", "60x60+0+0", "+repage"].concat(
      ["-resize", "40x40!", `PNG32:${dir.path}/ref.%d.png`],
    ),
  );
  for (const src of [gif, webp]) {
    const format = src.endsWith(".gif") ? "gif" : "webp";
    const reply = await imgserve.post(
      resizeJob(`file://${src}`, `file://${dir.path}/out/m.${format}`, { width: 40, height: 40 }),
    );
    assertEquals(reply.status, 202, JSON.stringify(reply.json));
    assertEquals((await imgserve.finished(reply.json.id as string)).state, "done");
    const out = `${dir.path}/out/m.${format}`;
    const frames = format === "gif" ? await magickFrames(out) : (await webpmuxInfo(out)).frames;
    assertEquals(frames.length, 5, `${format}: ${frames}`);
    for (let i = 0; i < 5; i++) {
      const want = await decode(await Deno.readFile(`${dir.path}/ref.${i}.png`));
      const got = await frameOf(out, i);
      // Points inside bands and squares, away from their edges, where resamplers differ.
      for (const [x, y] of [[3, 12], [22, 26], [36, 10], [15, 16], [5, 35], [36, 30], [25, 5]]) {
        const a = pixel(got, x, y), b = pixel(want, x, y);
        // Fully transparent pixels may carry any colour.
        if (a[3] === 0 && b[3] === 0) continue;
        assert(near(a, b, 40), `${format} frame ${i} at ${x},${y}: ${a} vs ImageMagick's ${b}`);
      }
    }
  }
});

Deno.test("several outputs of one animation come from one pass: GIF, WebP and a PNG of a frame", async () => {
  await using dir = await tempDir();
  await using imgserve = await serve();
  const src = await animatedGif(dir.path);
  const reply = await imgserve.post({
    operationType: "resize",
    srcURL: `file://${src}`,
    outputs: [
      { dstURL: `file://${dir.path}/out/a-{$frames}.gif`, args: { width: 32 } },
      { dstURL: `file://${dir.path}/out/b-{$frames}.webp`, args: { width: 16, format: "webp" } },
      { dstURL: `file://${dir.path}/out/c-{$frames}.png`, args: { width: 8, format: "png", frame: 2 } },
    ],
  });
  assertEquals(reply.status, 202, JSON.stringify(reply.json));
  const names = (reply.json.outputs as { dstURL: string }[]).map((o) => o.dstURL.split("/").pop());
  assertEquals(names, ["a-3.gif", "b-3.webp", "c-1.png"]);
  assertEquals((await imgserve.finished(reply.json.id as string)).state, "done");
  assertEquals(await magickFrames(`${dir.path}/out/a-3.gif`), ["32 24 10", "32 24 20", "32 24 30"]);
  assertEquals((await webpmuxInfo(`${dir.path}/out/b-3.webp`)).frames, ["16 12 100", "16 12 200", "16 12 300"]);
  const still = await decode(await Deno.readFile(`${dir.path}/out/c-1.png`));
  assert(near(pixel(still, 4, 3), BLUE as never, 8), `${pixel(still, 4, 3)}`);
});

Deno.test("an animation fetched over HTTP is counted and made from the one download, and uploaded by PUT", async () => {
  await using dir = await tempDir();
  const webp = await Deno.readFile(await animatedWebp(dir.path));
  const uploads: { type: string | null; bytes: Uint8Array }[] = [];
  await using site = httpServer(async (request) => {
    if (request.method === "PUT") {
      uploads.push({ type: request.headers.get("content-type"), bytes: new Uint8Array(await request.arrayBuffer()) });
      return new Response(null, { status: 201 });
    }
    return new Response(webp, { headers: { "content-type": "image/webp" } });
  });
  await using imgserve = await serve();
  const reply = await imgserve.post(
    resizeJob(`${site.base}/anim.webp`, `${site.base}/up/{$basename}-{$frames}.gif`, { width: 32, format: "gif" }),
  );
  assertEquals(reply.status, 202, JSON.stringify(reply.json));
  assertEquals(reply.json.dstURL, `${site.base}/up/anim-3.gif`);
  assertEquals((await imgserve.finished(reply.json.id as string)).state, "done");
  // The placeholder first, a one-frame GIF of the result's size, then the result.
  assertEquals(uploads.map((u) => u.type), ["image/gif", "image/gif"]);
  await Deno.writeFile(`${dir.path}/placeholder.gif`, uploads[0].bytes);
  await Deno.writeFile(`${dir.path}/result.gif`, uploads[1].bytes);
  assertEquals(await magickFrames(`${dir.path}/placeholder.gif`), ["32 24 0"]);
  assertEquals(await magickFrames(`${dir.path}/result.gif`), ["32 24 10", "32 24 20", "32 24 30"]);
  assertEquals(await magickLoop(`${dir.path}/result.gif`), "3");
});
