import { assert, assertEquals } from "../helpers/assert.ts";
import { codecs, decode } from "../helpers/images.ts";
import { decodeJpegScaled, TJPF_CMYK } from "../../workers/ops/jpeg_scaled.ts";
import { cmykToRgba, setDefaultCmykProfile } from "../../workers/ops/colour.ts";
import { serve, tempDir } from "../helpers/server.ts";
import { colourInfo } from "../../workers/ops/icc.ts";
import { magickPixels, psnr, tool } from "../helpers/tools.ts";
import { resizeJob } from "../helpers/jobs.ts";

const PHOTO = "/usr/share/backgrounds/gnome/vnc-l.webp";
const SRGB = "/usr/share/color/icc/colord/sRGB.icc";
/** Ghostscript's CMYK profile (Debian's libgs-common). */
const CMYK_PROFILE = "/usr/share/color/icc/ghostscript/default_cmyk.icc";
/** Ghostscript's PostScript-style CMYK profile: another one, to tell them apart. */
const PS_CMYK_PROFILE = "/usr/share/color/icc/ghostscript/ps_cmyk.icc";
const MAIN = new URL("../../src/main.ts", import.meta.url).pathname;

/** Resizes `src` to a PNG (lossless, so the comparison measures the colour conversion, not JPEG's loss). */
async function resizeToPng(imgserve: Awaited<ReturnType<typeof serve>>, src: string, width: number) {
  const reply = await imgserve.post(
    resizeJob(`file://${src}`, `file://${src}-${width}.{$format}`, { width, format: "png" }),
  );
  assertEquals(reply.status, 202, JSON.stringify(reply.json));
  const job = await imgserve.finished(reply.json.id as string);
  assertEquals(job.state, "done", JSON.stringify(job));
  return await decode(await Deno.readFile(`${src}-${width}.png`));
}

Deno.test("an Adobe (inverted, YCCK) CMYK JPEG decodes to the colours ImageMagick gives it, at full and reduced scale", async () => {
  await using dir = await tempDir();
  // No standard profile: ImageMagick's plain formula, which it uses too without one.
  await using imgserve = await serve(["--cmyk-profile", "none"]);
  // ImageMagick writes CMYK JPEGs as Photoshop does: YCCK, inverted, with an Adobe APP14 segment.
  await tool("convert", [PHOTO, "-resize", "96x64!", "-colorspace", "CMYK", "-quality", "95", `${dir.path}/c.jpg`]);
  const bytes = await Deno.readFile(`${dir.path}/c.jpg`);
  assertEquals(new TextDecoder().decode(bytes.subarray(6, 11)), "Adobe");
  const reference = await magickPixels(`${dir.path}/c.jpg`, "-colorspace", "sRGB");
  const result = await resizeToPng(imgserve, `${dir.path}/c.jpg`, 96);
  const db = psnr(result, reference);
  assert(db > 40, `PSNR ${db.toFixed(1)} dB`);
  // The same samples taken as not inverted fail the bar by far.
  await codecs();
  const stored = decodeJpegScaled(bytes, 96, 64, TJPF_CMYK);
  const wrong = await cmykToRgba(stored.data, 96, 64, undefined, false);
  const wrongDb = psnr(new ImageData(wrong.data, 96, 64), reference);
  assert(wrongDb < 15, `not inverted: ${wrongDb.toFixed(1)} dB`);
  const small = await resizeToPng(imgserve, `${dir.path}/c.jpg`, 24);
  assertEquals([small.width, small.height], [24, 16]);
});

Deno.test("a CMYK JPEG with an embedded CMYK profile is converted through it, as ImageMagick with -profile (lcms2) does", async () => {
  await using dir = await tempDir();
  await using imgserve = await serve();
  await tool("convert", [PHOTO, "-resize", "96x64!", "-profile", SRGB, "-profile", CMYK_PROFILE, `${dir.path}/p.jpg`]);
  const reference = await magickPixels(`${dir.path}/p.jpg`, "-profile", SRGB);
  const result = await resizeToPng(imgserve, `${dir.path}/p.jpg`, 96);
  const db = psnr(result, reference);
  assert(db > 33, `PSNR ${db.toFixed(1)} dB`);
  // Ignoring the profile (ImageMagick's plain formula) shifts the colours below that bar.
  const naive = await magickPixels(`${dir.path}/p.jpg`, "-colorspace", "sRGB");
  assert(psnr(naive, reference) < 30, `naive ${psnr(naive, reference).toFixed(1)} dB`);
});

Deno.test("a CMYK JPEG without a profile goes through the standard CMYK profile, as ImageMagick with -profile does", async () => {
  await using dir = await tempDir();
  const src = `${dir.path}/bare.jpg`;
  // Inverted YCCK with an Adobe marker, as Photoshop writes; no ICC profile in it.
  await tool("convert", [PHOTO, "-resize", "96x64!", "-colorspace", "CMYK", "-quality", "95", "-strip", src]);
  const info = await colourInfo(await Deno.readFile(src), "jpeg");
  assertEquals([info.components, info.adobe, info.icc], [4, true, undefined]);
  const reference = await magickPixels(src, "-profile", CMYK_PROFILE, "-profile", SRGB);
  // The default (Ghostscript's profile, found where Debian installs it), then the same file named by the flag.
  for (const flags of [[], ["--cmyk-profile", CMYK_PROFILE]]) {
    await using imgserve = await serve(flags);
    const db = psnr(await resizeToPng(imgserve, src, 96), reference);
    // Measured 45.9 dB.
    assert(db > 40, `${flags.join(" ") || "default"}: PSNR ${db.toFixed(1)} dB`);
  }
  // The plain formula, what such files got before, falls far below that bar (21.5 dB).
  const naive = await magickPixels(src, "-colorspace", "sRGB");
  assert(psnr(naive, reference) < 30, `plain formula ${psnr(naive, reference).toFixed(1)} dB`);
  // Another CMYK profile named by the flag is the one used (49.9 dB; it is 16.4 dB from the default's).
  await using imgserve = await serve(["--cmyk-profile", PS_CMYK_PROFILE]);
  const other = await magickPixels(src, "-profile", PS_CMYK_PROFILE, "-profile", SRGB);
  const db = psnr(await resizeToPng(imgserve, src, 96), other);
  assert(
    db > 40 && psnr(other, reference) < 30,
    `other profile ${db.toFixed(1)} dB, ${psnr(other, reference).toFixed(1)}`,
  );
});

Deno.test("the standard profile's transforms, kept from job to job, stay right for inverted and plain samples", async () => {
  await using dir = await tempDir();
  const src = `${dir.path}/bare.jpg`;
  await tool("convert", [PHOTO, "-resize", "96x64!", "-colorspace", "CMYK", "-quality", "95", "-strip", src]);
  const reference = await magickPixels(src, "-profile", CMYK_PROFILE, "-profile", SRGB);
  await codecs();
  const stored = decodeJpegScaled(await Deno.readFile(src), 96, 64, TJPF_CMYK);
  const inverse = stored.data.map((v) => 255 - v);
  setDefaultCmykProfile(await Deno.readFile(CMYK_PROFILE));
  try {
    // Inverted, plain (the same ink stored the other way), inverted again: each through its own kept transform.
    for (const [samples, inverted] of [[stored.data, true], [inverse, false], [stored.data, true]] as const) {
      const rgba = await cmykToRgba(samples, 96, 64, undefined, inverted);
      const db = psnr(new ImageData(rgba.data, 96, 64), reference);
      assert(db > 40, `inverted ${inverted}: ${db.toFixed(1)} dB`);
    }
  } finally {
    setDefaultCmykProfile(undefined);
  }
});

Deno.test("a --cmyk-profile that is no CMYK ICC profile stops `run` at start with one line", async () => {
  await using dir = await tempDir();
  const d = dir.path;
  await Deno.writeTextFile(`${d}/notes.txt`, "not a profile ".repeat(20));
  const cases: [Record<string, string>, string, string][] = [
    [{}, `${d}/missing.icc`, "cannot be read"],
    [{}, `${d}/notes.txt`, "not an ICC profile"],
    [{}, d, "not a file"],
    [{}, SRGB, "an ICC profile for RGB, not CMYK"],
    [{ IMGSERVE_CMYK_PROFILE: `${d}/missing.icc` }, `${d}/missing.icc`, "cannot be read"],
  ];
  await Promise.all(cases.map(async ([env, path, why]) => {
    const flags = Object.keys(env).length > 0 ? [] : ["--cmyk-profile", path];
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", MAIN, "run", "--host", "127.0.0.1", "--port", "0", "--kv", ":memory:", ...flags],
      env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(30_000),
    }).output();
    const line = new TextDecoder().decode(stderr).trim();
    assertEquals([code, new TextDecoder().decode(stdout)], [1, ""], line);
    assert(!line.includes("\n") && line.startsWith(`imgserve: --cmyk-profile ${path}: ${why}`), line);
  }));
});
