/**
 * One job with three outputs against the same three outputs as three jobs,
 * and against its largest output alone, through a running `imgserve run`
 * with one worker: the issue's 1280 fit JPEG, 400x300 cover WebP and
 * 200x120 cover JPEG, q80, of each baseline JPEG photo, file:// in and out.
 * The pool alone is compared in multi_output.ts; this adds what the server
 * does around it (header, placeholders, journal, deliveries).
 *
 * Times come from the jobs' own timestamps (accepted to finished, so
 * placeholders, journal and uploads count) and from the worker's stage
 * times; jobs run one at a time, so each measures work, not queueing.
 *
 * Alone: `deno run -A bench/multi_output_server.ts [--images N] [--reps N]`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { type CorpusImage, ensureCorpus, listCorpus } from "./corpus.ts";
import { finished } from "./load.ts";
import { table } from "./report.ts";
import { startServerProcess } from "./server_process.ts";

/** The three outputs of the issue, as `args`. */
export const THREE_OUTPUTS = [
  { name: "large", args: { width: 1280, height: 1280, mode: "fit", format: "jpeg", quality: 80 } },
  { name: "card", args: { width: 400, height: 300, mode: "cover", format: "webp", quality: 80 } },
  { name: "thumb", args: { width: 200, height: 120, mode: "cover", format: "jpeg", quality: 80 } },
] as const;

/** Milliseconds summed over the photos (each photo's median over the reps). */
export interface MultiOutputTimes {
  /** Accepted to finished. */
  wall: { multi: number; separate: number; largest: number };
  /** The worker's own stage times. */
  worker: { multi: number; separate: number; largest: number };
  images: number;
}

/** Runs the comparison on a server of its own, one worker. */
export async function compareMultiOutputServer(
  photos: CorpusImage[],
  options: { reps: number; work: string; flags?: string[] },
): Promise<MultiOutputTimes> {
  const out = `${options.work}/multi`;
  await Deno.mkdir(out, { recursive: true });
  await using server = await startServerProcess({
    workers: 1,
    fileRoots: ["/usr/share/backgrounds", out],
    flags: options.flags,
  });
  const wall = { multi: 0, separate: 0, largest: 0 };
  const worker = { multi: 0, separate: 0, largest: 0 };
  const dst = (photo: CorpusImage, variant: string, name: string) => `file://${out}/${variant}-${name}-${photo.name}`;
  for (const photo of photos) {
    const src = `file://${photo.path}`;
    const runs = { multi: [] as Timed[], separate: [] as Timed[], largest: [] as Timed[] };
    // A first run of each warms the worker's code paths for this size.
    for (let rep = 0; rep <= options.reps; rep++) {
      const multi = await timeJobs(server.base, [{
        operationType: "resize",
        srcURL: src,
        outputs: THREE_OUTPUTS.map(({ name, args }) => ({ dstURL: dst(photo, "multi", name), args })),
      }]);
      const separate = await timeJobs(
        server.base,
        THREE_OUTPUTS.map(({ name, args }) => ({
          operationType: "resize",
          srcURL: src,
          dstURL: dst(photo, "separate", name),
          args,
        })),
      );
      const largest = await timeJobs(server.base, [{
        operationType: "resize",
        srcURL: src,
        dstURL: dst(photo, "largest", "large"),
        args: THREE_OUTPUTS[0].args,
      }]);
      if (rep === 0) continue;
      runs.multi.push(multi);
      runs.separate.push(separate);
      runs.largest.push(largest);
    }
    for (const key of ["multi", "separate", "largest"] as const) {
      wall[key] += median(runs[key].map((r) => r.wall));
      worker[key] += median(runs[key].map((r) => r.worker));
    }
  }
  return { wall, worker, images: photos.length };
}

interface Timed {
  wall: number;
  worker: number;
}

/** Posts the jobs at once and waits for all; ms from the first accepted to the last finished. */
async function timeJobs(base: string, bodies: Record<string, unknown>[]): Promise<Timed> {
  const ids = await Promise.all(bodies.map(async (body) => {
    const response = await fetch(`${base}/`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const json = await response.json();
    if (response.status !== 202) throw new Error(`job refused: ${JSON.stringify(json)}`);
    return json.id as string;
  }));
  const records = await Promise.all(ids.map((id) => finished(base, id)));
  for (const record of records) if (record.state !== "done") throw new Error(`job failed: ${JSON.stringify(record)}`);
  const accepted = Math.min(...records.map((r) => Date.parse(r.acceptedAt as string)));
  const done = Math.max(...records.map((r) => Date.parse(r.finishedAt as string)));
  const worker = records.flatMap((r) => [r.times, ...((r.outputs ?? []) as { times?: unknown }[]).map((o) => o.times)])
    .reduce(
      (sum: number, times) => sum + Object.values((times ?? {}) as Record<string, number>).reduce((a, b) => a + b, 0),
      0,
    );
  return { wall: done - accepted, worker };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The comparison's table: both ratios, by wall time and by worker time. */
export function serverMultiOutputTable(times: MultiOutputTimes): string {
  const row = (label: string, t: { multi: number; separate: number; largest: number }) => [
    label,
    t.multi.toFixed(0),
    t.separate.toFixed(0),
    t.largest.toFixed(0),
    `${(t.multi / t.separate).toFixed(2)}x`,
    `${(t.multi / t.largest).toFixed(2)}x`,
  ];
  return table(
    ["time (ms, summed)", "one job, 3 outputs", "3 jobs", "largest alone", "one job / 3 jobs", "one job / largest"],
    [row("accepted to finished", times.wall), row("worker stages", times.worker)],
  );
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { images: { type: "string", default: "1000" }, reps: { type: "string", default: "3" } },
  });
  await ensureCorpus();
  const photos = (await listCorpus())
    .filter((i) => i.format === "jpeg" && i.coding === "baseline")
    .slice(0, Number(values.images));
  const work = await Deno.makeTempDir({ prefix: "imgserve-bench-" });
  try {
    const times = await compareMultiOutputServer(photos, {
      reps: Number(values.reps),
      work,
      flags: ["--data-dir", work],
    });
    console.log(`== ${times.images} baseline JPEG photos, one worker, through the server ==`);
    console.log(serverMultiOutputTable(times));
  } finally {
    await Deno.remove(work, { recursive: true });
  }
}
