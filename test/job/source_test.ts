import { assert, assertEquals, assertRejects } from "../helpers/assert.ts";
import { png, thirds } from "../helpers/images.ts";
import { httpServer, tempDir } from "../helpers/server.ts";
import { ImgserveError } from "../../protocol/error_codes.ts";
import { readHeader } from "../../src/image/header.ts";
import { digestOf } from "../../src/transport/mod.ts";
import { planJob } from "../../src/job/planner.ts";
import { acceptedSource, resumedSource } from "../../src/job/source.ts";
import { transferOptions } from "../../src/job/context.ts";
import { resizeRequest, transferContext } from "../helpers/transfer.ts";

function resizePlan(srcURL: string, image: Uint8Array) {
  const request = resizeRequest(srcURL, "file:///tmp/out.png");
  const { args } = request.outputs[0];
  return planJob({ operationType: request.operationType, args }, readHeader(image, true), 16384);
}

Deno.test("a local resize source goes to the worker as the checked file, and its download is let go", async () => {
  await using dir = await tempDir();
  const image = await png(thirds(60, 40));
  await Deno.writeFile(`${dir.path}/a.png`, image);
  const ctx = await transferContext(dir.path);
  const srcURL = new URL(`file://${dir.path}/a.png`);
  const stream = await ctx.transports.read(srcURL, transferOptions(ctx));
  const source = await acceptedSource(ctx, srcURL, resizePlan(srcURL.href, image), { stream, prefix: [] });
  assertEquals([source.ready, source.file?.size], [true, image.byteLength]);
  assertEquals((await stream.getReader().read()).done, true);
  const taken = await source.take();
  assert(!(taken instanceof Uint8Array));
  assertEquals(taken.path, await Deno.realPath(`${dir.path}/a.png`));
  assertEquals(await source.retake(), taken);
});

Deno.test("a remote source is read from its open download first, then downloaded anew after a worker is lost", async () => {
  const image = await png(thirds(60, 40));
  let hits = 0;
  await using server = httpServer(() => (hits++, new Response(image)));
  await using dir = await tempDir();
  const ctx = await transferContext(dir.path);
  const srcURL = new URL(`${server.base}/a.png`);
  const opened = await ctx.transports.read(srcURL, transferOptions(ctx));
  const source = await acceptedSource(ctx, srcURL, resizePlan(srcURL.href, image), { stream: opened, prefix: [] });
  assertEquals([source.ready, source.file], [false, undefined]);
  assertEquals(await source.take(), image);
  assertEquals(hits, 1);
  assertEquals(await source.retake(), image);
  assertEquals(hits, 2);
});

Deno.test("a source that now holds the job's own placeholder is refused, local or remote", async () => {
  await using dir = await tempDir();
  const placeholder = await png(thirds(30, 20));
  await Deno.writeFile(`${dir.path}/a.png`, placeholder);
  await using server = httpServer(() => new Response(placeholder));
  const ctx = await transferContext(dir.path);
  const digest = digestOf(placeholder);
  for (const src of [`file://${dir.path}/a.png`, `${server.base}/a.png`]) {
    const source = resumedSource(ctx, new URL(src), resizePlan(src, placeholder));
    const err = await assertRejects(() => source.take([digest]), ImgserveError);
    assertEquals(err.name, "SOURCE_IS_PLACEHOLDER");
  }
});
