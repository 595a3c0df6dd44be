/**
 * `deno task bench:compare DIR_A DIR_B`: is one checkout's server slower
 * than another's? Each run starts a fresh server of one checkout, sends it
 * warm-up passes of the corpus and then a fixed number of measured passes
 * at 4 clients; the two checkouts take turns (A B, B A, A B, ...) so both
 * see the machine's drift alike, and each pair gives its ratios: wall time,
 * the server's CPU time (all its threads) and its main thread's CPU time
 * (everything around the workers: HTTP, the job's steps, the journal),
 * and the server's peak RSS.
 *
 * A fixed amount of work rather than a fixed time: the corpus mixes 20 ms
 * and 600 ms jobs, and whole passes leave no doubt about what was counted.
 *
 * Flags: --rounds N (pairs, default 6), --passes N (measured, default 15),
 * --warmup N (passes before measuring, default 6), --class C (only one
 * class of the corpus: `baseline` or `progressive` JPEG photos or `png`
 * images as 200x120 thumbnails, or `svg` drawn 1920 px wide, the classes
 * the comparison against sharp names; default the whole corpus).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { type CorpusImage, corpusJobs, ensureCorpus, listCorpus } from "./corpus.ts";
import { callbackReceiver, type JobSpec, percentile } from "./load.ts";
import { startServerProcess } from "./server_process.ts";
import { table } from "./report.ts";

const { values: flags, positionals } = parseArgs({
  args: Deno.args,
  allowPositionals: true,
  options: {
    rounds: { type: "string", default: "6" },
    passes: { type: "string", default: "15" },
    warmup: { type: "string", default: "6" },
    class: { type: "string", default: "all" },
  },
});
if (positionals.length !== 2) {
  console.error("usage: deno task bench:compare DIR_A DIR_B [--rounds N] [--passes N] [--warmup N] [--class C]");
  Deno.exit(2);
}
const checkouts = positionals.map((dir) => Deno.realPathSync(dir));
/** USER_HZ, the unit of /proc's CPU times: 100 on every Linux build we run on. */
const CLOCK_TICKS = 100;
const rounds = Number(flags.rounds), passes = Number(flags.passes), warmup = Number(flags.warmup);

/** One measured run. */
interface Run {
  wall: number;
  cpu: number;
  main: number;
  /** The server's peak RSS (VmHWM) over the whole run, MiB. */
  peak: number;
}

await ensureCorpus();
const work = await Deno.makeTempDir({ prefix: "imgserve-compare-" });
const outDir = `${work}/out`;
await Deno.mkdir(outDir);
const jobs = classJobs(await listCorpus(), flags.class, outDir);
const runs: Run[][] = [[], []];
try {
  for (let round = 0; round < rounds; round++) {
    for (const side of round % 2 ? [1, 0] : [0, 1]) {
      const run = await measure(checkouts[side], `${work}/data-${side}-${round}`);
      runs[side].push(run);
      console.log(
        `${"AB"[side]} round ${round + 1}: ${(passes * jobs.length / run.wall).toFixed(2)} jobs/s, ` +
          `server CPU ${run.cpu.toFixed(1)} s, main thread ${run.main.toFixed(2)} s, peak RSS ${
            run.peak.toFixed(0)
          } MiB`,
      );
    }
  }
} finally {
  await Deno.remove(work, { recursive: true });
}
const ratios = (key: keyof Run) => runs[0].map((a, i) => runs[1][i][key] / a[key]);
console.log(
  `\nA ${checkouts[0]}\nB ${checkouts[1]}\n${passes} passes of ${jobs.length} jobs per run (class ${flags.class})`,
);
console.log(table(
  ["B / A", "median", "min", "max"],
  (["wall", "cpu", "main", "peak"] as const).map((key) => {
    const r = ratios(key).sort((x, y) => x - y);
    return [key, percentile(r, 50).toFixed(3), r[0].toFixed(3), r.at(-1)!.toFixed(3)];
  }),
));

/** The corpus's jobs of one class (see the flags above). */
function classJobs(corpus: CorpusImage[], name: string, dir: string): JobSpec[] {
  const inClass: Record<string, (image: CorpusImage) => boolean> = {
    all: () => true,
    baseline: (image) => image.format === "jpeg" && image.coding === "baseline",
    progressive: (image) => image.format === "jpeg" && image.coding === "progressive",
    png: (image) => image.format === "png",
    svg: (image) => image.format === "svg",
  };
  if (!inClass[name]) throw new Error(`--class ${name}: one of ${Object.keys(inClass).join(", ")}`);
  const specs = corpusJobs(corpus.filter(inClass[name]), dir);
  if (name !== "svg") return specs;
  return specs.map((spec) => ({ ...spec, body: { ...spec.body, args: { width: 1920 } } }));
}

async function measure(checkout: string, dataDir: string): Promise<Run> {
  await using server = await startServerProcess({
    fileRoots: ["/usr/share/backgrounds", outDir],
    flags: ["--data-dir", dataDir],
    checkout,
  });
  await drive(server.base, warmup * jobs.length);
  const cpu0 = cpuSeconds(server.pid), main0 = cpuSeconds(server.pid, server.pid), t0 = performance.now();
  await drive(server.base, passes * jobs.length);
  return {
    wall: (performance.now() - t0) / 1000,
    cpu: cpuSeconds(server.pid) - cpu0,
    main: cpuSeconds(server.pid, server.pid) - main0,
    peak: (await server.memory()).peakMiB,
  };
}

/** Posts `count` jobs from the corpus list at 4 clients and waits for each to finish; any failure ends the comparison. */
async function drive(base: string, count: number): Promise<void> {
  const callbacks = callbackReceiver();
  let next = 0;
  const client = async (slot: number) => {
    while (next < count) {
      const spec: JobSpec = jobs[next++ % jobs.length];
      const body = { ...spec.body, dstURL: String(spec.body.dstURL).replace("{slot}", String(slot)) };
      const response = await fetch(`${base}/`, {
        method: "POST",
        body: JSON.stringify({ ...body, callbackURL: callbacks.url }),
        headers: { "content-type": "application/json" },
      });
      const reply = await response.json();
      if (response.status !== 202) throw new Error(`${response.status} ${JSON.stringify(reply)}`);
      const state = await callbacks.wait(reply.id);
      if (state !== "done") throw new Error(`job ${reply.id} ${state}`);
    }
  };
  try {
    await Promise.all([0, 1, 2, 3].map(client));
  } finally {
    await callbacks.close();
  }
}

/** User plus system CPU seconds of a process (all its threads), or of one of its threads. */
function cpuSeconds(pid: number, thread?: number): number {
  const stat = Deno.readTextFileSync(thread ? `/proc/${pid}/task/${thread}/stat` : `/proc/${pid}/stat`);
  // Fields after the command name, which may hold spaces: utime and stime are the 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}
