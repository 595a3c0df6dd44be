import { assert, assertEquals } from "./helpers/assert.ts";
import { decode, GREEN, near, pixel, png, thirds, undecodablePng } from "./helpers/images.ts";
import { ImgserveError } from "../src/errors.ts";
import { coverCrop } from "../src/job/plan.ts";
import type { Plan } from "../protocol/plan.ts";
import { WorkerPool } from "../src/pool.ts";
import { tempDir } from "./helpers/server.ts";
import { crashingPool, runOne } from "./helpers/pools.ts";
import { DELIBERATE_CRASH, holdBackStderr } from "./helpers/stderr.ts";

/** A resize plan for a 60x30 PNG: red|green|blue thirds. */
function planFor(width: number, height: number): Plan {
  return {
    op: "resize",
    source: { format: "png", width: 60, height: 30, orientation: 1, hasAlpha: false },
    width,
    height,
    format: "png",
    quality: 85,
    mode: "cover",
    crop: coverCrop(60, 30, width, height),
  };
}

async function source(): Promise<Uint8Array<ArrayBuffer>> {
  return await png(thirds(60, 30));
}

Deno.test("one worker given several jobs at once runs them all, in order, each with its own result", async () => {
  await using pool = await WorkerPool.start({ size: 1, fontDirs: [], taskTimeoutMs: 60_000 });
  const sizes = [10, 11, 12, 13, 14];
  const finished: number[] = [];
  const results = await Promise.all(sizes.map(async (width) => {
    const result = await runOne(pool, planFor(width, 10), await source());
    finished.push(width);
    return result;
  }));
  assertEquals(finished, sizes);
  for (const [i, result] of results.entries()) {
    const image = await decode(result.bytes);
    assertEquals([image.width, image.height], [sizes[i], 10]);
    assert(near(pixel(image, Math.floor(image.width / 2), 5), GREEN), "the centre third is green");
  }
});

Deno.test("a job that fails hands the one sent ahead back, and it runs on the fresh worker", async () => {
  await using pool = await WorkerPool.start({ size: 1, fontDirs: [], taskTimeoutMs: 60_000 });
  const corrupt = undecodablePng(await source());
  const [bad, good] = await Promise.allSettled([
    runOne(pool, planFor(20, 10), corrupt),
    runOne(pool, planFor(20, 10), await source()),
  ]);
  assertEquals(bad.status, "rejected");
  assertEquals(((bad as PromiseRejectedResult).reason as ImgserveError).code, 601);
  assertEquals(good.status, "fulfilled");
  const image = await decode((good as PromiseFulfilledResult<{ bytes: Uint8Array }>).value.bytes);
  assertEquals([image.width, image.height], [20, 10]);
  assert(near(pixel(image, 10, 5), GREEN), "the job sent ahead ran on clean codecs");
  assertEquals(pool.replaced, 1);
  assertEquals(pool.queued, 0);
});

Deno.test("a crash fails the job sent ahead as transient, so the runner tries it again", async () => {
  using _held = holdBackStderr(DELIBERATE_CRASH);
  await using pool = await crashingPool();
  const [crash, ahead] = await Promise.allSettled([
    runOne(pool, planFor(13, 10), await source()),
    runOne(pool, planFor(20, 10), await source()),
  ]);
  const crashError = (crash as PromiseRejectedResult).reason as ImgserveError;
  const aheadError = (ahead as PromiseRejectedResult).reason as ImgserveError;
  assertEquals([crashError.code, aheadError.code], [602, 602]);
  assert(aheadError.transient, "the innocent job is retried");
  assert(/before it reached this job/.test(aheadError.message), aheadError.message);
  const after = await runOne(pool, planFor(20, 10), await source());
  assertEquals((await decode(after.bytes)).width, 20);
});

Deno.test("a worker reads a local source itself; one it cannot read fails with the source's code and the worker stays", async () => {
  await using dir = await tempDir();
  const path = `${await Deno.realPath(dir.path)}/thirds.png`;
  await Deno.writeFile(path, await source());
  const info = await Deno.stat(path);
  const local = { path, dev: info.dev, ino: info.ino!, size: info.size };
  await using pool = await WorkerPool.start({ size: 1, fontDirs: [], taskTimeoutMs: 60_000 });
  // Twice: the second read reuses the worker's buffer.
  for (const width of [20, 12]) {
    const result = await runOne(pool, planFor(width, 10), local);
    const image = await decode(result.bytes);
    assertEquals([image.width, image.height], [width, 10]);
    assert(near(pixel(image, Math.floor(width / 2), 5), GREEN), "the centre third is green");
    assert(result.times.read >= 0, "the read is timed");
  }
  const gone = await runOne(pool, planFor(20, 10), { ...local, path: `${path}.missing` }).catch((e) => e);
  assert(gone instanceof ImgserveError);
  assertEquals(gone.code, 202);
  const swapped = await runOne(pool, planFor(20, 10), { ...local, ino: local.ino + 1 }).catch((e) => e);
  assertEquals([swapped.code, swapped.transient], [209, true]);
  assertEquals(pool.replaced, 0);
});

Deno.test("a job over its time stops its worker's thread at the next stage, and the job sent ahead never runs", async () => {
  // Noise, so decoding and encoding take real time: the whole job runs for seconds.
  const side = 5000;
  const data = new Uint8ClampedArray(side * side * 4);
  let seed = 1;
  for (let i = 0; i < data.length; i++) data[i] = (seed = (seed * 1103515245 + 12345) & 0x7fffffff) >> 16;
  const noise = await png(new ImageData(data, side, side));
  const plan: Plan = {
    ...planFor(4000, 4000),
    source: { format: "png", width: side, height: side, orientation: 1, hasAlpha: true },
    crop: coverCrop(side, side, 4000, 4000),
  };
  const workerThreads = () =>
    [...Deno.readDirSync("/proc/self/task")].filter((t) => {
      try {
        return /^worker-\d+/.test(Deno.readTextFileSync(`/proc/self/task/${t.name}/comm`));
      } catch {
        return false;
      }
    }).map((t) => t.name);
  await using pool = await WorkerPool.start({ size: 1, fontDirs: [], taskTimeoutMs: 300 });
  const [overrun] = workerThreads();
  const [first, ahead] = await Promise.allSettled([
    runOne(pool, plan, noise.slice()),
    runOne(pool, plan, noise.slice()),
  ]);
  assertEquals(((first as PromiseRejectedResult).reason as ImgserveError).code, 603);
  assertEquals(((ahead as PromiseRejectedResult).reason as ImgserveError).code, 602);
  // Deno's terminate() alone left this thread running both whole jobs: about 24 s on a busy 2-core machine.
  const deadline = Date.now() + 10_000;
  while (workerThreads().includes(overrun) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert(!workerThreads().includes(overrun), "the overrunning worker's thread is still there after 10 s");
});
