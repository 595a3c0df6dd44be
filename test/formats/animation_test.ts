import { assert, assertEquals } from "../helpers/assert.ts";
import { decode, near, pixel } from "../helpers/images.ts";
import { serve, tempDir } from "../helpers/server.ts";
import { tool } from "../helpers/tools.ts";
import { resizeJob } from "../helpers/jobs.ts";

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

/** Frame i of an animation, composited, as RGBA. */
async function frameOf(path: string, i: number): Promise<ImageData> {
  await tool("convert", [path, "-coalesce", `PNG32:${path}.%d.png`]);
  return await decode(await Deno.readFile(`${path}.${i}.png`));
}

/** Three 64x48 frames, red, green, blue: shown 10, 20 and 30 hundredths, looped 3 times. */
async function rgbFrames(dir: string): Promise<string[]> {
  const names = ["red", "lime", "blue"].map((colour) => `${dir}/${colour}.png`);
  for (const [i, colour] of ["red", "lime", "blue"].entries()) {
    // A square of the next colour in the top left corner, so a frame's crop shows in the result.
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
