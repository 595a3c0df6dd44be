/** A worker slot: a failed, crashed or overrunning worker is ended and replaced, and what it held is settled. */
import { assert, assertEquals } from "../helpers/assert.ts";
import { decode, GREEN, near, pixel, png, undecodablePng } from "../helpers/images.ts";
import { ImgserveError } from "../../protocol/error_codes.ts";
import { coverCrop } from "../../src/job/planner.ts";
import type { Plan } from "../../protocol/plan.ts";
import { WorkerPool } from "../../src/pool/pool.ts";
import { crashingPool, planFor, runOne, source } from "../helpers/pools.ts";
import { endWorker, failTasks, RENDERER_START_MS, type Slot, startDeadline } from "../../src/pool/slots.ts";
import { JobNotStarted, type Task } from "../../src/pool/task.ts";
import { DELIBERATE_CRASH, holdBackStderr } from "../helpers/stderr.ts";

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

/** A slot around a worker that does nothing, holding `tasks`. */
function idleSlot(tasks: Task[] = []): Slot {
  const worker = new Worker(new URL("data:application/javascript,"), { type: "module" });
  return {
    worker,
    tasks,
    ready: true,
    retiring: false,
    renderers: new Set(),
    stop: new Int32Array(new SharedArrayBuffer(4)),
    heaviest: 0,
  };
}

function taskOf(plan: Plan, timeoutMs: number): Task {
  return {
    id: 1,
    outputs: [{ plan }],
    alone: false,
    need: 0,
    queuedAt: 0,
    timeoutMs,
    results: [],
    resolve() {},
    reject() {},
  };
}

Deno.test("ending a worker kills its render processes, which terminate() does not reach, and sets its stop flag", async () => {
  const renderer = new Deno.Command("sleep", { args: ["30"], stdout: "null", stderr: "null" }).spawn();
  const slot = idleSlot();
  slot.renderers.add(renderer.pid);
  endWorker(slot);
  const status = await renderer.status;
  assertEquals([status.signal, slot.renderers.size, Atomics.load(slot.stop, 0)], ["SIGKILL", 0, 1]);
});

Deno.test("a running task's deadline fails it with 603; an SVG's allows for its render process to start", async () => {
  const resize = idleSlot([taskOf(planFor(20, 10), 50)]);
  const overrun = await new Promise<ImgserveError>((resolve) => startDeadline(resize, (_, error) => resolve(error)));
  assertEquals([overrun.code, overrun.message], [603, "processing took longer than 50 ms"]);
  endWorker(resize);

  const svg = idleSlot([taskOf({ ...planFor(20, 10), op: "rasterize" }, 50)]);
  let fired = false;
  startDeadline(svg, () => fired = true);
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert(!fired, `an SVG's deadline is its time plus ${RENDERER_START_MS} ms for the render process to start`);
  endWorker(svg);
});

Deno.test("a crashed worker's running task fails with the crash; those sent ahead fail as not started", () => {
  const errors: ImgserveError[] = [];
  const tasks = [1, 2, 3].map((id) => ({
    ...taskOf(planFor(20, 10), 1000),
    id,
    reject: (e: ImgserveError) => errors.push(e),
  }));
  failTasks(tasks, new ImgserveError("WORKER_CRASHED", "the image worker crashed: boom"));
  assertEquals(errors.map((e) => [e.code, e instanceof JobNotStarted]), [[602, false], [602, true], [602, true]]);
  assert(errors[1].transient, "a job sent ahead is run again");
});
