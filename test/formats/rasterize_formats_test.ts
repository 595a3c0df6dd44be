import { assert, assertEquals } from "../helpers/assert.ts";
import { decode, near, pixel } from "../helpers/images.ts";
import { serve, tempDir } from "../helpers/server.ts";
import { rasterizeJob } from "../helpers/jobs.ts";

// SVGs are drawn and encoded in the render process, not in the worker: it must write WebP and AVIF too.
Deno.test("an SVG rasterizes to WebP and AVIF, with its colours and transparency", async () => {
  await using dir = await tempDir();
  await using imgserve = await serve();
  await Deno.writeTextFile(
    `${dir.path}/logo.svg`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="120" height="60">` +
      `<rect width="60" height="60" fill="#2b6cb0"/></svg>`,
  );
  for (const format of ["webp", "avif"]) {
    const reply = await imgserve.post(
      rasterizeJob(`file://${dir.path}/logo.svg`, `file://${dir.path}/out/{$basename}.{$format}`, {
        format,
        quality: 90,
      }),
    );
    assertEquals(reply.status, 202, JSON.stringify(reply.json));
    assertEquals(reply.json.dstURL, `file://${dir.path}/out/logo.${format}`);
    const job = await imgserve.finished(reply.json.id as string);
    assertEquals(job.state, "done", JSON.stringify(job));
    const image = await decode(await Deno.readFile(`${dir.path}/out/logo.${format}`));
    assertEquals([image.width, image.height], [120, 60], format);
    assert(near(pixel(image, 30, 30), [0x2b, 0x6c, 0xb0, 255], 12), `${format}: ${pixel(image, 30, 30)}`);
    assert(pixel(image, 90, 30)[3] < 16, `${format}: the right half stays transparent, ${pixel(image, 90, 30)}`);
  }
});
