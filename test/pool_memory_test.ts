import { assert, assertEquals } from "./helpers/assert.ts";
import { decode, GREEN, near, pixel, png, thirds } from "./helpers/images.ts";
import { coverCrop } from "../src/job/plan.ts";
import type { Plan } from "../protocol/plan.ts";
import { WorkerPool } from "../src/pool.ts";
import { budgeted } from "../protocol/memory.ts";
import { serve, tempDir } from "./helpers/server.ts";
import { runOne } from "./helpers/pools.ts";

const MiB = 1024 * 1024;

/**
 * A job whose memory stays with its worker: a small PNG enlarged to a
 * 2400x1500 JPEG grows the JPEG encoder's memory by about 50 MiB. (A large
 * decode no longer does: its memory is given back before the encode.)
 */
async function largePng(): Promise<{ bytes: Uint8Array<ArrayBuffer>; plan: Plan }> {
  const [width, height] = [60, 30];
  return {
    bytes: await png(thirds(width, height)),
    plan: {
      op: "resize",
      source: { format: "png", width, height, orientation: 1, hasAlpha: false },
      width: 2400,
      height: 1500,
      format: "jpeg",
      quality: 85,
      mode: "stretch",
      crop: { x: 0, y: 0, width, height },
    },
  };
}

async function smallPng(): Promise<{ bytes: Uint8Array<ArrayBuffer>; plan: Plan }> {
  return {
    bytes: await png(thirds(60, 30)),
    plan: {
      op: "resize",
      source: { format: "png", width: 60, height: 30, orientation: 1, hasAlpha: false },
      width: 20,
      height: 10,
      format: "png",
      quality: 85,
      mode: "cover",
      crop: coverCrop(60, 30, 20, 10),
    },
  };
}

async function pollUntil(what: string, check: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!await check()) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen in ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

Deno.test("a worker over its memory budget is replaced between jobs: no job fails, the next runs on a fresh worker", async () => {
  const [large, small] = [await largePng(), await smallPng()];
  // Room for a fresh worker and a little more: the large job's encode goes over it.
  const probe = await WorkerPool.start({ size: 1, fontDirs: [], taskTimeoutMs: 60_000 });
  const fresh = budgeted(probe.fresh!);
  probe.close();
  const budget = fresh + 8 * MiB;
  await using pool = await WorkerPool.start({ size: 1, fontDirs: [], taskTimeoutMs: 60_000, workerMemory: budget });
  let recycledWhenSecondDone = -1;
  // Both go to the one worker at once: the second is sent ahead, so the worker must hand it back.
  const [first, second] = await Promise.all([
    runOne(pool, large.plan, large.bytes),
    runOne(pool, small.plan, small.bytes).then((result) => {
      recycledWhenSecondDone = pool.recycled;
      return result;
    }),
  ]);
  for (const [result, { plan }] of [[first, large], [second, small]] as const) {
    const image = await decode(result.bytes);
    assertEquals([image.width, image.height], [plan.width, plan.height]);
    assert(near(pixel(image, plan.width >> 1, plan.height >> 1), GREEN), "the centre third is green");
  }
  assertEquals(recycledWhenSecondDone, 1, "the second job ran after its worker was replaced, on the fresh one");
  assertEquals([pool.recycled, pool.replaced, pool.size], [1, 0, 1]);
  assert(budgeted(pool.memory[0]) <= budget, "the fresh worker is within its budget");
});

Deno.test("a job whose plan cannot fit --worker-memory is refused with 508 before anything is decoded", async () => {
  await using dir = await tempDir();
  // A real PNG header saying 6000x6000 (within --max-source-pixels), then no image data: decoding it would fail
  // with another code.
  const header = (await png(thirds(60, 30))).slice(0, 33);
  new DataView(header.buffer).setUint32(16, 6000);
  new DataView(header.buffer).setUint32(20, 6000);
  await Deno.writeFile(`${dir.path}/huge.png`, header);
  await using imgserve = await serve(["--workers", "1", "--worker-memory", "64"]);
  const reply = await imgserve.post({
    operationType: "resize",
    srcURL: `file://${dir.path}/huge.png`,
    dstURL: `file://${dir.path}/out.png`,
    args: { width: 3000 },
  });
  assertEquals([reply.status, reply.json.code], [413, 508]);
  assert(String(reply.json.error).includes("--worker-memory of 64 MiB"), String(reply.json.error));
  assertEquals([...Deno.readDirSync(dir.path)].map((e) => e.name), ["huge.png"], "no placeholder was written");
  // A job that fits still runs.
  await Deno.writeFile(`${dir.path}/a.png`, await png(thirds(60, 30)));
  const ok = await imgserve.post({
    operationType: "resize",
    srcURL: `file://${dir.path}/a.png`,
    dstURL: `file://${dir.path}/ok.png`,
    args: { width: 30 },
  });
  assertEquals(ok.status, 202);
  assertEquals((await imgserve.finished(ok.json.id as string)).state, "done");
});

Deno.test("after a burst of large images the pool's reported memory falls back once it is idle", async () => {
  await using dir = await tempDir();
  const large = await largePng();
  await Deno.writeFile(`${dir.path}/large.png`, large.bytes);
  await using imgserve = await serve(["--workers", "1"]);
  const health = async () => (await (await fetch(`${imgserve.base}/healthz`)).json()).memory;
  const fresh = (await health()).bytes;
  const ids = [];
  for (let i = 0; i < 3; i++) {
    const reply = await imgserve.post({
      operationType: "resize",
      srcURL: `file://${dir.path}/large.png`,
      dstURL: `file://${dir.path}/out-${i}.jpg`,
      args: { width: large.plan.width, height: large.plan.height, mode: "stretch", format: "jpeg" },
    });
    assertEquals(reply.status, 202);
    ids.push(reply.json.id as string);
  }
  for (const id of ids) assertEquals((await imgserve.finished(id)).state, "done");
  const after = await health();
  assert(after.bytes > fresh + 24 * MiB, `the burst grew the worker (${fresh} -> ${after.bytes} bytes)`);
  // Idle for a few seconds, the worker is replaced by a fresh one.
  await pollUntil("the pool's memory falling back", async () => (await health()).bytes < fresh + 4 * MiB);
  const metrics = await (await fetch(`${imgserve.base}/metrics`)).text();
  assert(/^imgserve_workers_recycled 1$/m.test(metrics), "the recycle is counted");
  const total = Number(/^imgserve_pool_memory_bytes (\d+)$/m.exec(metrics)?.[1]);
  assert(total < fresh + 4 * MiB, `/metrics reports the fallen memory too (${total})`);
});

/** WebAssembly memory a worker holds beyond a fresh one's, in MiB. */
function grownMiB(pool: WorkerPool): number[] {
  return pool.memory.map((m) => (m.wasm - pool.fresh!.wasm) / MiB);
}

Deno.test("heavy jobs stay on the worker that has run one: the other worker stays small", async () => {
  const [large, small] = [await largePng(), await smallPng()];
  await using pool = await WorkerPool.start({ size: 2, fontDirs: [], taskTimeoutMs: 60_000 });
  await runOne(pool, large.plan, large.bytes);
  // Both workers idle: the small job takes the first, and the large one would have taken the other.
  const sources = [await smallPng(), await largePng(), await smallPng(), await smallPng()];
  const results = await Promise.all(
    sources.map((source, i) => runOne(pool, i === 1 ? large.plan : small.plan, source.bytes)),
  );
  for (const [i, result] of results.entries()) {
    const plan = i === 1 ? large.plan : small.plan;
    const image = await decode(result.bytes);
    assertEquals([image.width, image.height], [plan.width, plan.height]);
    assert(near(pixel(image, plan.width >> 1, plan.height >> 1), GREEN), "the centre third is green");
  }
  const grown = grownMiB(pool).sort((a, b) => a - b);
  assert(grown[1] > 30, `the large jobs grew one worker by ${grown[1].toFixed(1)} MiB`);
  assert(grown[0] < 10, `the other worker grew by ${grown[0].toFixed(1)} MiB, as if it had run a large job`);
});

Deno.test("a stream of heavy jobs still keeps every worker busy: an idle worker takes one that has waited", async () => {
  const large = await largePng();
  // No idle recycling here: a worker that ran its last large job early must still show it at the end.
  await using pool = await WorkerPool.start({ size: 2, fontDirs: [], taskTimeoutMs: 60_000, idleRecycleMs: 600_000 });
  // The stream must hold one worker well past the 2 s wait on a fast machine too:
  // its length comes from one job's time, so that alone it would take about 6 s.
  const started = performance.now();
  await runOne(pool, large.plan, (await largePng()).bytes);
  const one = performance.now() - started;
  const count = Math.min(96, Math.max(16, Math.ceil(6_000 / one)));
  const results = await Promise.all(
    Array.from({ length: count }, async () => runOne(pool, large.plan, (await largePng()).bytes)),
  );
  for (const result of results) {
    const image = await decode(result.bytes);
    assert(near(pixel(image, 1200, 750), GREEN), "the centre third is green");
  }
  const grown = grownMiB(pool);
  assert(grown.every((mib) => mib > 30), `both workers ran large jobs: grown ${grown.map((g) => g.toFixed(1))} MiB`);
});
