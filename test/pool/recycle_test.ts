/** Replacing workers for their memory: over --worker-memory between jobs, or idle far above a fresh worker. */
import { assert, assertEquals } from "../helpers/assert.ts";
import { decode, GREEN, near, pixel, png, thirds } from "../helpers/images.ts";
import { WorkerPool } from "../../src/pool/pool.ts";
import { budgeted } from "../../protocol/memory.ts";
import { serve, tempDir } from "../helpers/server.ts";
import { pollUntil } from "../helpers/poll.ts";
import { largePng, runOne, smallPng } from "../helpers/pools.ts";
import { FAR_ABOVE_FRESH, memoryVerdict } from "../../src/pool/recycle.ts";

const MiB = 1024 * 1024;

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
  await pollUntil(async () => (await health()).bytes < fresh + 4 * MiB, {
    timeoutMs: 15_000,
    intervalMs: 50,
    message: "the pool's memory falling back",
  });
  const metrics = await (await fetch(`${imgserve.base}/metrics`)).text();
  assert(/^imgserve_workers_recycled 1$/m.test(metrics), "the recycle is counted");
  const total = Number(/^imgserve_pool_memory_bytes (\d+)$/m.exec(metrics)?.[1]);
  assert(total < fresh + 4 * MiB, `/metrics reports the fallen memory too (${total})`);
});

Deno.test("memoryVerdict: over the budget retires; far above a fresh worker, it is watched while idle; else kept", () => {
  const fresh = { wasm: 20 * MiB, kept: 0, heap: 8 * MiB, render: 0 };
  const ready = { ready: true, retiring: false };
  const grown = (wasm: number) => ({ ...fresh, wasm: fresh.wasm + wasm });
  assertEquals(memoryVerdict(grown(100 * MiB), ready, fresh, 64 * MiB), "retire");
  assertEquals(memoryVerdict(grown(FAR_ABOVE_FRESH + MiB), ready, fresh, 512 * MiB), "watchIdle");
  assertEquals(memoryVerdict(grown(FAR_ABOVE_FRESH), ready, fresh, 512 * MiB), "keep");
  // A render process's memory is its own: it ends with the process, not with the worker.
  assertEquals(memoryVerdict({ ...fresh, render: 200 * MiB }, ready, fresh, 512 * MiB), "keep");
  // Not yet started, or already on its way out: nothing to decide.
  assertEquals(memoryVerdict(grown(100 * MiB), { ready: false, retiring: false }, fresh, 64 * MiB), "keep");
  assertEquals(memoryVerdict(grown(100 * MiB), { ready: true, retiring: true }, fresh, 64 * MiB), "keep");
  assertEquals(memoryVerdict(grown(100 * MiB), ready, undefined), "keep");
});
