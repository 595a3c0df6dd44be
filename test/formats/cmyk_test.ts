import { assert, assertEquals } from "../helpers/assert.ts";
import { codecs, decode } from "../helpers/images.ts";
import { decodeJpegScaled, TJPF_CMYK } from "../../workers/ops/jpeg_scaled.ts";
import { cmykToRgba } from "../../workers/ops/colour.ts";
import { serve, tempDir } from "../helpers/server.ts";
import { magickPixels, psnr, tool } from "../helpers/tools.ts";

const PHOTO = "/usr/share/backgrounds/gnome/vnc-l.webp";
const SRGB = "/usr/share/color/icc/colord/sRGB.icc";
/** Ghostscript's CMYK profile (Debian's libgs-common). */
const CMYK_PROFILE = "/usr/share/color/icc/ghostscript/default_cmyk.icc";

async function resizeToPng(imgserve: Awaited<ReturnType<typeof serve>>, src: string, width: number) {
  const reply = await imgserve.post({
    operationType: "resize",
    srcURL: `file://${src}`,
    dstURL: `file://${src}-${width}.{$format}`,
    args: { width },
  });
  assertEquals(reply.status, 202, JSON.stringify(reply.json));
  const job = await imgserve.finished(reply.json.id as string);
  assertEquals(job.state, "done", JSON.stringify(job));
  return await decode(await Deno.readFile(`${src}-${width}.jpg`));
}

Deno.test("an Adobe (inverted, YCCK) CMYK JPEG decodes to the colours ImageMagick gives it, at full and reduced scale", async () => {
  await using dir = await tempDir();
  await using imgserve = await serve();
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
