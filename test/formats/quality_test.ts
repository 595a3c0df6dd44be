import { assert, assertEquals } from "../helpers/assert.ts";
import { decode } from "../helpers/images.ts";
import { resizeJob } from "../helpers/jobs.ts";
import { serve, tempDir } from "../helpers/server.ts";
import { psnr } from "../helpers/tools.ts";

const PHOTO = "/usr/share/backgrounds/mate/nature/Garden.jpg";

Deno.test("quality reaches the JPEG, WebP and AVIF encoders: low quality is smaller and further from the pixels", async () => {
  await using dir = await tempDir();
  await using imgserve = await serve();
  await Deno.copyFile(PHOTO, `${dir.path}/photo.jpg`);
  const run = async (format: string, quality?: number) => {
    const path = `${dir.path}/${format}-${quality}.${format}`;
    const args = { width: 320, height: 200, mode: "cover", format, ...(quality ? { quality } : {}) };
    const reply = await imgserve.post(resizeJob(`file://${dir.path}/photo.jpg`, `file://${path}`, args));
    assertEquals(reply.status, 202, JSON.stringify(reply.json));
    const done = await imgserve.finished(reply.json.id as string);
    assertEquals(done.state, "done", JSON.stringify(done));
    return await Deno.readFile(path);
  };
  // The same resize written losslessly: the pixels every encoder was given.
  const reference = await decode(await run("png"));
  for (const format of ["jpeg", "webp", "avif"]) {
    const [low, high] = [await run(format, 15), await run(format, 90)];
    const [lowDb, highDb] = [psnr(await decode(low), reference), psnr(await decode(high), reference)];
    const summary = `${format}: q15 ${low.length} B ${lowDb.toFixed(1)} dB, q90 ${high.length} B ${
      highDb.toFixed(1)
    } dB`;
    assert(high.length > 2 * low.length, summary);
    assert(highDb > lowDb + 4, summary);
    assert(highDb > 33, summary);
  }
});
