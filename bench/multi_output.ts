/**
 * Several outputs of one photo in one pool task against the same outputs
 * as separate tasks, on the same pool: the three outputs (a 1280
 * fit JPEG, a 400x300 cover WebP, a 200x120 cover JPEG q80), and the
 * largest of them alone.
 *
 * Runs on its own too: `deno run -A bench/multi_output.ts [--reps N]`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { readHeader } from "../src/image/header.ts";
import { planJob } from "../src/job/planner.ts";
import type { Plan } from "../protocol/plan.ts";
import type { JobArgs } from "../src/job/job_args.ts";
import { WorkerPool } from "../src/pool/pool.ts";
import type { CorpusImage } from "./corpus.ts";

/** The three outputs, largest first. */
const OUTPUTS: Partial<JobArgs>[] = [
  { width: 1280 },
  { width: 400, height: 300, mode: "cover", format: "webp" },
  { width: 200, height: 120, mode: "cover", quality: 80 },
];

/** Median milliseconds per photo, summed over the photos. */
export interface MultiOutputResult {
  photos: number;
  workers: number;
  /** One task with the three outputs. */
  oneTaskMs: number;
  /** The same three outputs as three tasks. */
  separateMs: number;
  /** The largest output alone. */
  largestMs: number;
  /** oneTaskMs / separateMs (target <= 0.6). */
  vsSeparate: number;
  /** oneTaskMs / largestMs (target <= 1.6). */
  vsLargest: number;
}

function plansFor(bytes: Uint8Array): Plan[] {
  const header = readHeader(bytes, true);
  const job = (args: Partial<JobArgs>) => ({
    operationType: "resize" as const,
    srcURL: new URL("file:///photo.jpg"),
    dstTemplate: "",
    args: { mode: "fit" as const, ...args },
  });
  return OUTPUTS.map((args) => planJob(job(args), header, 16384));
}

/**
 * Times each way on every photo on a pool of one worker, so wall time is
 * that worker's time; the three separate tasks are sent together, so the
 * worker never waits between them. The ways alternate, so garbage
 * collection and caches fall on all of them alike; `reps` timed runs after
 * one warm-up.
 */
export async function compareMultiOutput(images: CorpusImage[], reps: number): Promise<MultiOutputResult> {
  await using pool = await WorkerPool.start({ size: 1, fontDirs: [], taskTimeoutMs: 120_000 });
  let oneTaskMs = 0, separateMs = 0, largestMs = 0;
  for (const image of images) {
    const bytes = await Deno.readFile(image.path);
    const plans = plansFor(bytes);
    const times = { one: [] as number[], separate: [] as number[], largest: [] as number[] };
    const timed = async (into: number[], rep: number, work: () => Promise<unknown>) => {
      const started = performance.now();
      await work();
      if (rep > 0) into.push(performance.now() - started);
    };
    for (let rep = 0; rep <= reps; rep++) {
      await timed(times.one, rep, async () => {
        const results = await pool.runOutputs(bytes.slice(), plans.map((plan) => ({ plan })), { timeoutMs: 120_000 });
        if (!results.every((r) => r.ok)) throw new Error(`an output of ${image.name} failed`);
      });
      await timed(times.separate, rep, () => Promise.all(plans.map((plan) => one(pool, plan, bytes.slice()))));
      await timed(times.largest, rep, () => one(pool, plans[0], bytes.slice()));
    }
    oneTaskMs += median(times.one);
    separateMs += median(times.separate);
    largestMs += median(times.largest);
  }
  return {
    photos: images.length,
    workers: 1,
    oneTaskMs,
    separateMs,
    largestMs,
    vsSeparate: oneTaskMs / separateMs,
    vsLargest: oneTaskMs / largestMs,
  };
}

/** One output as a task of its own: a list of one, as the server sends it. */
async function one(pool: WorkerPool, plan: Plan, bytes: Uint8Array): Promise<void> {
  const [result] = await pool.runOutputs(bytes, [{ plan }], { timeoutMs: 120_000 });
  if (!result.ok) throw result.error;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

if (import.meta.main) {
  const { listCorpus } = await import("./corpus.ts");
  const { multiOutputTable } = await import("./report.ts");
  const { values } = parseArgs({ args: Deno.args, options: { reps: { type: "string", default: "3" } } });
  const photos = (await listCorpus()).filter((i) => i.format === "jpeg" && i.coding === "baseline");
  console.log(multiOutputTable(await compareMultiOutput(photos, Number(values.reps))));
}
