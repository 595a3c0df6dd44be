/** The pool's facade: a source's outputs in, results out, several jobs to one worker in order. */
import { assert, assertEquals } from "../helpers/assert.ts";
import { decode, GREEN, near, pixel } from "../helpers/images.ts";
import { WorkerPool } from "../../src/pool/pool.ts";
import { tempDir } from "../helpers/server.ts";
import { planFor, runOne, source } from "../helpers/pools.ts";
import { ImgserveError } from "../../protocol/error_codes.ts";

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
