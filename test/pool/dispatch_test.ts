/** Which job goes to which worker: send-ahead, jobs that wait for an idle worker, heavy jobs kept to one worker. */
import { assert, assertEquals } from "../helpers/assert.ts";
import { decode, GREEN, near, pixel } from "../helpers/images.ts";
import { WorkerPool } from "../../src/pool/pool.ts";
import { grownMiB, largePng, runOne, smallPng } from "../helpers/pools.ts";
import { planFor } from "../workers/reference.ts";
import { DEPTH, type Dispatch, dispatch, HEAVY_BYTES, HEAVY_WAIT_MS, type SlotState } from "../../src/pool/dispatch.ts";

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

Deno.test("an 8 MP progressive JPEG's thumbnail joins the 17.9 MP one's worker: the other stays small", async () => {
  // Real photos (mate-backgrounds): their thumbnails need about 99 and 46 MiB, a worker's growth stays with it.
  const photo = async (name: string) => {
    const bytes = await Deno.readFile(`/usr/share/backgrounds/mate/abstract/${name}`);
    return { bytes, plan: planFor(bytes, 200, 120, "cover") };
  };
  const [largest, large] = [await photo("Elephants_5640x3172.jpg"), await photo("Elephants_3840x2160.jpg")];
  assert(large.plan.source.width === 3840 && largest.plan.source.width === 5640, "the two photos");
  await using pool = await WorkerPool.start({ size: 2, fontDirs: [], taskTimeoutMs: 60_000, idleRecycleMs: 600_000 });
  await runOne(pool, largest.plan, largest.bytes.slice());
  // Both workers idle: the small job takes the first (the grown one), and the 8 MP photo would have taken the other.
  const jobs = [await smallPng(), large, await smallPng(), await smallPng()];
  const results = await Promise.all(jobs.map((job) => runOne(pool, job.plan, job.bytes.slice())));
  for (const [i, result] of results.entries()) {
    const image = await decode(result.bytes);
    assertEquals([image.width, image.height], [jobs[i].plan.width, jobs[i].plan.height]);
  }
  const grown = grownMiB(pool).sort((a, b) => a - b);
  assert(grown[1] > 60, `the progressive JPEGs grew one worker by ${grown[1].toFixed(1)} MiB`);
  assert(grown[0] < 10, `the other worker grew by ${grown[0].toFixed(1)} MiB, as if it had decoded the 8 MP photo`);
});

Deno.test("a stream of heavy jobs still keeps every worker busy: an idle worker takes one that has waited", async () => {
  const large = await largePng();
  // No idle recycling here: a worker that ran its last large job early must still show it at the end.
  await using pool = await WorkerPool.start({ size: 2, fontDirs: [], taskTimeoutMs: 60_000, idleRecycleMs: 600_000 });
  // The stream must hold one worker well past the 2 s wait on a fast machine too:
  // its length comes from one warm job's time (a worker's first job is several times slower),
  // so that alone it would take about 6 s.
  await runOne(pool, large.plan, (await largePng()).bytes);
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

const MiB = 1024 * 1024;
const idle = (heaviest = 0): SlotState => ({ ready: true, retiring: false, held: 0, heaviest });
const job = (name: string, need = MiB, queuedAt = 0, alone = false) => ({ name, need, queuedAt, alone });
/** Which job each send gives to which worker, as "job@worker". */
const sent = (result: Dispatch<ReturnType<typeof job>>) => result.sends.map(({ slot, job }) => `${job.name}@${slot}`);

Deno.test("dispatch: idle workers first, then one job ahead to each busy one, in the order jobs came", () => {
  const queue = ["a", "b", "c", "d", "e"].map((name) => job(name));
  const result = dispatch([idle(), idle()], queue, 0);
  assertEquals(sent(result), ["a@0", "b@1", "c@0", "d@1"]);
  assertEquals(queue.length, 5, "the queue given is left as it was");
});

Deno.test("dispatch: a worker not ready, retiring or holding two jobs takes none", () => {
  const slots = [
    { ...idle(), ready: false },
    { ...idle(), retiring: true },
    { ...idle(), held: DEPTH },
    { ...idle(), held: 1 },
  ];
  assertEquals(sent(dispatch(slots, [job("a"), job("b")], 0)), ["a@3"]);
});

Deno.test("dispatch: a job marked alone waits for an idle worker and is never sent ahead", () => {
  const busy = { ...idle(), held: 1 };
  assertEquals(sent(dispatch([busy], [job("lonely", MiB, 0, true), job("b")], 0)), ["b@0"]);
  assertEquals(sent(dispatch([busy, idle()], [job("lonely", MiB, 0, true)], 0)), ["lonely@1"]);
});

Deno.test("dispatch: a heavy job goes to the worker that has run the heaviest; a light one to any", () => {
  const heavy = HEAVY_BYTES + MiB;
  // Worker 1 has grown for heavy jobs; worker 0 is idle too but small.
  assertEquals(sent(dispatch([idle(), idle(heavy)], [job("big", heavy), job("small")], 0)), ["small@0", "big@1"]);
  // A light job still takes the first idle worker, even the heavy one.
  assertEquals(sent(dispatch([idle(heavy), idle()], [job("small")], 0)), ["small@0"]);
});

Deno.test("dispatch: a heavy job left waiting for its worker is taken by an idle one once it has waited HEAVY_WAIT_MS", () => {
  const heavy = HEAVY_BYTES + MiB;
  const slots = [idle(), { ...idle(heavy), held: DEPTH }];
  const early = dispatch(slots, [job("big", heavy, 1000)], 1000 + HEAVY_WAIT_MS - 1);
  assertEquals(sent(early), []);
  assertEquals(early.wakeAt, 1000 + HEAVY_WAIT_MS, "the pool looks again when the job will have waited long enough");
  const late = dispatch(slots, [job("big", heavy, 1000)], 1000 + HEAVY_WAIT_MS);
  assertEquals([sent(late), late.wakeAt], [["big@0"], undefined]);
});

Deno.test("dispatch: a worker that took a heavy job takes the next as heavy without waiting", () => {
  const heavy = HEAVY_BYTES + MiB;
  // Both idle and new: worker 0 is the heavy one on a tie; once it holds one, it is sent the next ahead.
  assertEquals(sent(dispatch([idle(), idle()], [job("big1", heavy), job("big2", heavy)], 0)), ["big1@0", "big2@0"]);
});
