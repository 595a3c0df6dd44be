import { assert, assertEquals } from "../helpers/assert.ts";
import { BLUE, decode, GREEN, jpeg, near, pixel, png, RED, type Rgba, thirds } from "../helpers/images.ts";
import { resizeJob } from "../helpers/jobs.ts";
import { serve, tempDir, testConfig } from "../helpers/server.ts";
import { readHeader } from "../../src/image/header.ts";
import { planJob } from "../../src/job/planner.ts";
import type { Plan } from "../../protocol/plan.ts";
import type { JobArgs } from "../../src/job/job_args.ts";
import { WorkerPool } from "../../src/pool/pool.ts";
import { budgeted, type WorkerMemory } from "../../protocol/memory.ts";
import { planMemoryBytes } from "../../protocol/plan_memory.ts";
import { runOne } from "../helpers/pools.ts";

const MiB = 1024 * 1024;

let photo: Promise<Uint8Array<ArrayBuffer>> | undefined;
/** An ordinary 1600x1000 photo's size, in thirds: red, green, blue. */
function photo1600(): Promise<Uint8Array<ArrayBuffer>> {
  return photo ??= jpeg(thirds(1600, 1000), 90);
}

function planFor(bytes: Uint8Array, args: Partial<JobArgs>): Plan {
  const { limits } = testConfig();
  const job = { operationType: "resize" as const, args: { mode: "cover", ...args } as JobArgs };
  return planJob(job, readHeader(bytes, true), limits.maxSide, limits.maxResultPixels);
}

/** The colour across the middle row at each third of the result: red, green, blue. */
function assertThirds(image: ImageData, tolerance = 40): void {
  const y = image.height >> 1;
  const expect: [number, Rgba][] = [[1 / 6, RED], [1 / 2, GREEN], [5 / 6, BLUE]];
  for (const [at, colour] of expect) {
    const x = Math.floor(image.width * at);
    const seen = pixel(image, x, y);
    assert(near(seen, colour, tolerance), `pixel ${x},${y} is ${seen}, expected about ${colour}`);
  }
}

/** Every worker's budgeted memory, from /healthz. */
async function workerMemory(base: string): Promise<WorkerMemory[]> {
  const health = await (await fetch(`${base}/healthz`)).json();
  return health.memory.workers;
}

Deno.test("with the default flags, a 1600x1000 JPEG enlarged to 3840x2160 is accepted and made within --worker-memory", async () => {
  await using dir = await tempDir();
  await Deno.writeFile(`${dir.path}/photo.jpg`, await photo1600());
  await using imgserve = await serve();
  const reply = await imgserve.post(
    resizeJob(`file://${dir.path}/photo.jpg`, `file://${dir.path}/4k.jpg`, { width: 3840, height: 2160 }),
  );
  assertEquals(reply.status, 202, JSON.stringify(reply.json));
  const job = await imgserve.finished(reply.json.id as string);
  assertEquals(job.state, "done", JSON.stringify(job));
  const image = await decode(await Deno.readFile(`${dir.path}/4k.jpg`));
  assertEquals([image.width, image.height], [3840, 2160]);
  assertThirds(image);
  const budget = testConfig().workerMemory;
  for (const memory of await workerMemory(imgserve.base)) {
    assert(budgeted(memory) <= budget, `a worker holds ${budgeted(memory) / MiB} MiB, over ${budget / MiB}`);
  }
});

Deno.test("with the default flags, a result at --max-side and near --max-result-pixels is accepted and made", async () => {
  const { limits, workerMemory: budget } = testConfig();
  const width = limits.maxSide, height = Math.floor(limits.maxResultPixels / limits.maxSide);
  await using dir = await tempDir();
  await Deno.writeFile(`${dir.path}/small.png`, await png(thirds(300, 40)));
  await using imgserve = await serve();
  const reply = await imgserve.post(
    resizeJob(`file://${dir.path}/small.png`, `file://${dir.path}/banner.png`, { width, height, mode: "stretch" }),
  );
  assertEquals(reply.status, 202, JSON.stringify(reply.json));
  assertEquals((await imgserve.finished(reply.json.id as string)).state, "done");
  const image = await decode(await Deno.readFile(`${dir.path}/banner.png`));
  assertEquals([image.width, image.height], [width, height]);
  assertThirds(image, 2);
  for (const memory of await workerMemory(imgserve.base)) assert(budgeted(memory) <= budget);
});

Deno.test("the default limits agree: every result within them, in every format, fits the default --worker-memory", async () => {
  const { limits, workerMemory: budget } = testConfig();
  const probe = await WorkerPool.start({ size: 1, fontDirs: [], taskTimeoutMs: 60_000 });
  const fresh = budgeted(probe.fresh!);
  probe.close();
  const bytes = await photo1600();
  const side = Math.floor(Math.sqrt(limits.maxResultPixels));
  const sizes = [[limits.maxSide, Math.floor(limits.maxResultPixels / limits.maxSide)], [side, side], [3840, 2160]];
  for (const [width, height] of sizes) {
    for (const format of ["jpeg", "png", "webp", "avif"] as const) {
      for (const lossless of format === "webp" ? [false, true] : [false]) {
        const need = fresh + planMemoryBytes(planFor(bytes, { width, height, format, lossless }));
        assert(need <= budget, `${width}x${height} ${format}${lossless ? " lossless" : ""}: ${need / MiB} MiB`);
      }
    }
  }
});

Deno.test("an admitted job's worker holds no more than the 508 check estimated", async () => {
  const photo = await photo1600();
  const cases: [string, Uint8Array<ArrayBuffer>, Partial<JobArgs>][] = [
    ["4K JPEG from a 1600x1000 JPEG", photo, { width: 3840, height: 2160 }],
    ["1920x1080 lossless WebP", photo, { width: 1920, height: 1080, format: "webp", lossless: true }],
    ["1280x720 AVIF", photo, { width: 1280, height: 720, format: "avif" }],
    ["600x400 PNG from a 4000x2500 PNG", await png(thirds(4000, 2500)), { width: 600, height: 400 }],
  ];
  for (const [name, bytes, args] of cases) {
    const plan = planFor(bytes, args);
    await using pool = await WorkerPool.start({ size: 1, fontDirs: [], taskTimeoutMs: 60_000 });
    const fresh = budgeted(pool.fresh!);
    const result = await runOne(pool, plan, bytes.slice());
    assertThirds(await decode(result.bytes));
    const held = budgeted(pool.memory[0]);
    const estimate = fresh + planMemoryBytes(plan);
    assert(held <= estimate, `${name}: the worker holds ${held / MiB} MiB, estimated ${estimate / MiB}`);
  }
});
