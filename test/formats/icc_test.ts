import { assert, assertEquals } from "../helpers/assert.ts";
import { decode } from "../helpers/images.ts";
import { serve, tempDir } from "../helpers/server.ts";
import { magickPixels, psnr, tool } from "../helpers/tools.ts";
import { resizeJob } from "../helpers/jobs.ts";

const PHOTO = "/usr/share/backgrounds/mate/nature/Garden.jpg";
const SRGB = "/usr/share/color/icc/colord/sRGB.icc";
const PROFILES = {
  adobe: "/usr/share/color/icc/compatibleWithAdobeRGB1998.icc",
  wide: "/usr/share/color/icc/colord/WideGamutRGB.icc",
};
/** A result this close to lcms2's is right; each untransformed decode below falls short of it. */
const BAR = 36;

Deno.test("JPEG, PNG, WebP and AVIF with Adobe RGB or wide-gamut profiles come out as sRGB, as lcms2 converts them", async () => {
  await using dir = await tempDir();
  await using imgserve = await serve();
  const d = dir.path;
  await tool("convert", [PHOTO, "-resize", "128x80!", "-profile", SRGB, `${d}/base.png`]);
  for (const [name, profile] of Object.entries(PROFILES)) {
    // Pixels converted into the profile's space, the profile embedded: what a camera or a phone writes.
    await tool("convert", [`${d}/base.png`, "-profile", profile, "-quality", "97", `${d}/${name}.jpg`]);
    await tool("convert", [`${d}/base.png`, "-profile", profile, `${d}/${name}.png`]);
    await tool("cwebp", ["-quiet", "-lossless", "-metadata", "icc", `${d}/${name}.png`, "-o", `${d}/${name}.webp`]);
    await tool("avifenc", [
      "-s",
      "10",
      "-y",
      "444",
      "--min",
      "0",
      "--max",
      "4",
      `${d}/${name}.png`,
      `${d}/${name}.avif`,
    ]);
    const reference = await magickPixels(`${d}/${name}.png`, "-profile", SRGB);
    const untransformed = await magickPixels(`${d}/${name}.png`, "+profile", "*");
    const shifted = psnr(untransformed, reference);
    assert(shifted < BAR - 6, `${name}: the untransformed decode is already ${shifted.toFixed(1)} dB`);
    for (const ext of ["jpg", "png", "webp", "avif"]) {
      const reply = await imgserve.post(
        resizeJob(`file://${d}/${name}.${ext}`, `file://${d}/out-${name}-${ext}.png`, { width: 128, format: "png" }),
      );
      assertEquals(reply.status, 202, JSON.stringify(reply.json));
      const job = await imgserve.finished(reply.json.id as string);
      assertEquals(job.state, "done", JSON.stringify(job));
      const result = await decode(await Deno.readFile(`${d}/out-${name}-${ext}.png`));
      const db = psnr(result, reference);
      assert(db > BAR, `${name}.${ext}: ${db.toFixed(1)} dB (untransformed: ${shifted.toFixed(1)} dB)`);
    }
  }
});

Deno.test("16-bit and palette PNGs keep working", async () => {
  await using dir = await tempDir();
  await using imgserve = await serve();
  await tool("convert", [PHOTO, "-resize", "128x80!", "-depth", "16", `PNG48:${dir.path}/deep.png`]);
  await tool("convert", [PHOTO, "-resize", "128x80!", "-colors", "200", `PNG8:${dir.path}/palette.png`]);
  for (const name of ["deep.png", "palette.png"]) {
    const reply = await imgserve.post(
      resizeJob(`file://${dir.path}/${name}`, `file://${dir.path}/out-${name}`, { width: 128 }),
    );
    assertEquals((await imgserve.finished(reply.json.id as string)).state, "done");
    const db = psnr(
      await decode(await Deno.readFile(`${dir.path}/out-${name}`)),
      await magickPixels(`${dir.path}/${name}`),
    );
    assert(db > 45, `${name}: ${db.toFixed(1)} dB`);
  }
});
