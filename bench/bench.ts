/**
 * `deno task bench`: measures imgserve on real photos and drawings.
 *
 * 1. In this process, our resize pipeline against the straightforward one
 *    (200x120 cover thumbnails, JPEG q80) on every JPEG of the corpus.
 * 1c. One pool task making three outputs of a photo against three tasks
 *    and against its largest output alone.
 * 1e. The baseline photos' thumbnails through a running server (2 workers)
 *    against sharp's WebAssembly and native builds on the same files, all
 *    with 2 lanes (vs_sharp_server.ts).
 * 2. `imgserve run` as a separate process, with 1 worker and then with the
 *    default, driven over HTTP at several concurrencies: reply latency,
 *    jobs and megapixels per second, per-stage times, peak RSS; the reply
 *    latency for a 16 MB JPEG on an idle server; and a long load phase that
 *    shows whether memory stays flat.
 * 3. A second load on a fresh default server: the largest photos and PNGs
 *    resized to 600x400 PNGs (warm-up, load phase and idle, sampled alike).
 *
 * Flags: --duration S (load phase, default 60), --phase S (each concurrency
 * level, default 12), --levels 1,2,4,8, --reps N (pipeline runs, default 3),
 * --warmup S (load before measuring each server, default 30), --memory-only
 * (only the default server's warm-up, load phase and idle after it, and the
 * second load), --large-only (only the second load),
 * --server DIR (run the imgserve checkout in DIR, to compare commits),
 * --s3-only (only the S3 row: the photos' thumbnails from and to a Ceph
 * RADOS Gateway on loopback against file://, per-job overhead; part of the
 * full run, and skipped, saying so, where radosgw is not installed),
 * --sharp-only (only the row against sharp; npm installs both builds of
 * sharp under .bench/ on first use).
 *
 * The default server is sampled every second from its start to 20 s after
 * the load phase (RSS with and without its render processes, jobs finished,
 * busy workers); the samples go into the JSON and a chart beside it, and
 * those of the second load into a second chart.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { corpusJobs, ensureCorpus, largeImageJobs, listCorpus, MATE_DIR } from "./corpus.ts";
import { type LoadResult, percentile, runLoad } from "./load.ts";
import { batchSpeedup, comparePipelines } from "./pipelines.ts";
import { loadTable, machine, multiOutputTable, pipelineTable, table, writeResults } from "./report.ts";
import { startServerProcess } from "./server_process.ts";
import { idleReplyLatency } from "./idle_latency.ts";
import { compareFormats } from "./formats.ts";
import { benchAnimation } from "./animation.ts";
import { compareMultiOutput } from "./multi_output.ts";
import { compareMultiOutputServer, serverMultiOutputTable } from "./multi_output_server.ts";
import { type Sample, Timeline } from "./timeline.ts";
import { timelineChart } from "./chart.ts";
import { compareS3, type S3Row, s3Unavailable } from "./s3.ts";
import { compareWithSharp, type SharpComparison, sharpTable } from "./vs_sharp_server.ts";

const { values: flags } = parseArgs({
  args: Deno.args,
  options: {
    duration: { type: "string", default: "60" },
    phase: { type: "string", default: "12" },
    levels: { type: "string", default: "1,2,4,8" },
    reps: { type: "string", default: "3" },
    warmup: { type: "string", default: "30" },
    "memory-only": { type: "boolean", default: false },
    "large-only": { type: "boolean", default: false },
    "s3-only": { type: "boolean", default: false },
    "sharp-only": { type: "boolean", default: false },
    server: { type: "string" },
  },
});
const loadSeconds = Number(flags.duration);
const phaseSeconds = Number(flags.phase);
const levels = flags.levels.split(",").map(Number);
const reps = Number(flags.reps);
const warmupSeconds = Number(flags.warmup);
const largeOnly = flags["large-only"];
const memoryOnly = flags["memory-only"] || largeOnly;
const s3Only = flags["s3-only"];
const sharpOnly = flags["sharp-only"];
/** Idle time sampled after the load phase, and when after its end RSS is compared with the fresh server's. */
const IDLE_AFTER_S = 20;
const SETTLED_AFTER_S = 15;
const BIG_JPEG = `${MATE_DIR}/abstract/Elephants_5640x3172.jpg`;
const STAGES = ["download", "read", "decode", "resize", "render", "encode", "write", "queue+upload"];

await ensureCorpus();
const host = await machine();
const corpus = await listCorpus();
const jpegs = corpus.filter((i) => i.format === "jpeg");
console.log(
  `imgserve bench on ${host.cpus} x ${host.cpuModel}, ${host.memoryGiB.toFixed(1)} GiB, Deno ${host.deno}\n` +
    `corpus: ${jpegs.length} JPEG (${jpegs.filter((i) => i.coding === "baseline").length} baseline), ` +
    `${corpus.filter((i) => i.format === "png").length} PNG, ${corpus.filter((i) => i.format === "svg").length} SVG`,
);

// 1e. Against sharp through a running server: first, as the row the baseline class is judged by.
const vsSharp = memoryOnly || s3Only ? undefined : await measureVsSharp();
async function measureVsSharp(): Promise<SharpComparison> {
  const baselinePhotos = jpegs.filter((i) => i.coding === "baseline");
  console.log(
    `\n== ${baselinePhotos.length} baseline photos to 200x120 cover JPEG q80 thumbnails, 2 lanes: ` +
      `the server (2 workers) vs sharp-wasm32 and native sharp (concurrency 1), in turns ==`,
  );
  await using scratch = await tempDir();
  const result = await compareWithSharp(baselinePhotos, {
    passes: 6,
    turns: 3,
    work: scratch.path,
    flags: await journalFlagsFor(scratch.path),
    checkout: flags.server,
  });
  console.log(sharpTable(result));
  console.log(`loaded: ${result.bindings.wasm32}; ${result.bindings.native}`);
  return result;
}
if (sharpOnly) {
  const path = await summarize(sharpTargets(vsSharp!), { machine: host, vsSharp });
  console.log(`\nresults written to ${path}`);
  Deno.exit(0);
}

// 1. In-process pipelines.
const inProcess = memoryOnly || s3Only ? undefined : await measureInProcess();
async function measureInProcess() {
  console.log(`\n== thumbnails 200x120 cover, JPEG q80, in process: naive vs ours (median of ${reps}) ==`);
  const pipelines = await comparePipelines(jpegs, reps);
  console.log(pipelineTable(pipelines));
  const baseline = pipelines.filter((r) => r.coding === "baseline");
  const progressive = pipelines.filter((r) => r.coding === "progressive");
  const speedup = { baseline: batchSpeedup(baseline), progressive: batchSpeedup(progressive) };
  console.log(
    `per-image speed-up: baseline photos ${speedup.baseline.toFixed(2)}x, progressive ${
      speedup.progressive.toFixed(2)
    }x; PSNR vs naive min ${Math.min(...pipelines.map((r) => r.psnr)).toFixed(1)} dB`,
  );

  // 1b. Output formats and WebP sources, in process.
  console.log(`\n== thumbnails 200x120 cover as JPEG q80, WebP q80, AVIF q60 (speed 8), in process ==`);
  const formats = await compareFormats(jpegs, reps);
  console.log(
    table(
      ["output", "ms per image (mean of medians)", "bytes per image", "vs JPEG"],
      Object.entries(formats.output).map(([format, r]) => [
        format,
        r.ms.toFixed(1),
        r.bytes.toFixed(0),
        `${(r.ms / formats.output.jpeg.ms).toFixed(2)}x`,
      ]),
    ),
  );
  console.log(
    table(
      ["WebP wallpaper", "size", "decode ms", "job ms"],
      formats.webpSources.map((r) => [r.name, r.size, r.decodeMs.toFixed(0), r.totalMs.toFixed(0)]),
    ),
  );
  const heic = formats.heicSources;
  if (heic.length === 0) console.log("HEIC sources: left out (heif-enc is missing: apt-get install libheif-examples)");
  else {
    const mean = (format: string) => {
      const rows = heic.filter((r) => r.format === format);
      return rows.reduce((sum, r) => sum + r.totalMs, 0) / rows.length;
    };
    console.log(
      table(
        ["photo to 200x120 JPEG", "size", "source", "decode ms", "job ms"],
        heic.map((r) => [r.name, r.size, r.format, r.decodeMs.toFixed(0), r.totalMs.toFixed(0)]),
      ),
    );
    console.log(
      `HEIC sources: ${(mean("heic") / mean("png")).toFixed(2)}x the time per image of the same photos as PNG`,
    );
  }
  const png = formats.tiffSources[0];
  console.log(
    table(
      ["source coding (one photo)", "size", "bytes", "decode ms (median)", "vs PNG"],
      formats.tiffSources.map((r) => [
        r.name,
        r.size,
        String(r.bytes),
        r.decodeMs.toFixed(1),
        `${(r.decodeMs / png.decodeMs).toFixed(2)}x`,
      ]),
    ),
  );
  console.log(`\n== animated GIF: 24 frames 640x480 to a 200x120 cover GIF, vs its first frame as PNG to PNG ==`);
  const animation = await benchAnimation(reps);
  console.log(
    table(
      ["row", "ms per image (median)", "ms per frame", "vs PNG"],
      [
        ["PNG 640x480 to PNG", animation.pngMs.toFixed(1), animation.pngMs.toFixed(1), "1.00x"],
        [
          `GIF ${animation.frames} frames to GIF`,
          animation.gifMs.toFixed(1),
          (animation.gifMs / animation.frames).toFixed(1),
          `${(animation.gifMs / animation.pngMs).toFixed(2)}x`,
        ],
      ],
    ),
  );
  console.log(
    `${animation.long.frames}-frame 1000x1000 GIF to 200x200 GIF: ${(animation.long.ms / 1000).toFixed(1)} s, ` +
      `peak resident memory grew ${(animation.long.peakGrowth / 1048576).toFixed(0)} MiB; ms by stage: ${
        Object.entries(animation.long.stages).map(([stage, ms]) => `${stage} ${ms.toFixed(0)}`).join(", ")
      }`,
  );
  return { pipelines, speedup, formats, animation };
}

// 1c. Several outputs of one photo: in one pool task, then through a running server.
const multi = memoryOnly || s3Only ? undefined : await measureMultiOutput();
async function measureMultiOutput() {
  const baselinePhotos = jpegs.filter((i) => i.coding === "baseline");
  console.log(`\n== 1280 fit JPEG + 400x300 cover WebP + 200x120 cover JPEG, baseline photos, one task vs separate ==`);
  const multiOutput = await compareMultiOutput(baselinePhotos, reps);
  console.log(multiOutputTable(multiOutput));
  console.log(`\n== the same through a running server (one worker): one job of 3 outputs vs 3 jobs ==`);
  await using scratch = await tempDir();
  const serverMultiOutput = await compareMultiOutputServer(baselinePhotos, {
    reps,
    work: scratch.path,
    flags: await journalFlagsFor(scratch.path),
  });
  console.log(serverMultiOutputTable(serverMultiOutput));
  return { multiOutput, serverMultiOutput };
}

// 1d. s3:// against file:// through a running server.
const s3 = memoryOnly ? undefined : await measureS3();
async function measureS3(): Promise<S3Row | undefined> {
  const why = s3Unavailable();
  if (why) {
    console.log(`\n== S3 row SKIPPED: ${why} ==`);
    return undefined;
  }
  console.log(
    `\n== ${jpegs.length} photos to 200x120 JPEG thumbnails, s3:// to s3:// (Ceph RGW) vs file:// to file:// ==`,
  );
  await using scratch = await tempDir();
  const row = await compareS3(jpegs, {
    seconds: s3Only ? 20 : 10,
    turns: 2,
    work: scratch.path,
    flags: await journalFlagsFor(scratch.path),
    checkout: flags.server,
  });
  const turns = (results: LoadResult[]) => results.map((r) => (1000 / r.windowJobsPerSecond).toFixed(1)).join(", ");
  console.log(
    table(["path", "ms per job, one client (each turn)", "mean"], [
      ["file:// -> file://", turns(row.turns.file), row.fileMs.toFixed(1)],
      ["s3:// -> s3://", turns(row.turns.s3), row.s3Ms.toFixed(1)],
    ]),
  );
  console.log(`s3:// overhead: ${row.overheadMs.toFixed(1)} ms per job (${(row.s3Ms / row.fileMs).toFixed(2)}x)`);
  return row;
}
if (s3Only) {
  const path = await writeResults(new URL("../.bench", import.meta.url).pathname, {
    date: new Date().toISOString(),
    commit: await gitCommit(),
    machine: host,
    s3,
  });
  console.log(`\nresults written to ${path}`);
  Deno.exit(s3 ? 0 : 1);
}

// 2. The server over HTTP.
await using work = await tempDir();
const outDir = `${work.path}/out`;
await Deno.mkdir(outDir);
const jobs = corpusJobs(corpus, outDir);
const roots = ["/usr/share/backgrounds", outDir];
const journalFlags = await journalFlagsFor(work.path);
if (largeOnly) {
  console.log(`\n== large-image load: ${loadSeconds} s at ${2 * host.cpus} clients, the largest photos and PNGs ==`);
  const { memory, peakMiB } = await largeImageLoad();
  console.log(`server peak RSS (VmHWM): ${peakMiB.toFixed(0)} MiB`);
  console.log(
    `large-only: load peak ${memory.loadPeakMiB.toFixed(0)} MiB, settled/fresh ${
      (memory.settledMiB / memory.freshMiB).toFixed(2)
    }x`,
  );
  await Deno.remove(work.path, { recursive: true });
  Deno.exit(0);
}

interface ServerRun {
  workers: number | "default";
  levels: LoadResult[];
  peakMiB: number;
  saturatedJobsPerSecond: number;
  idleReplyMs?: { p50: number; p99: number; samples: number };
  load?: {
    seconds: number;
    concurrency: number;
    rssStartMiB: number;
    rssEndMiB: number;
    rssMaxMiB: number;
    result: LoadResult;
  };
  memory?: MemorySummary;
}

/** The default server's memory over its run, against the issue's targets. */
interface MemorySummary {
  /** Just started, before any job: the server, and with its render processes. */
  freshMiB: number;
  freshWithRenderMiB: number;
  /** Highest sample in the load phase. */
  loadPeakMiB: number;
  loadPeakWithRenderMiB: number;
  /** The sample SETTLED_AFTER_S after the load phase ended. */
  settledMiB: number;
  settledWithRenderMiB: number;
  samples: Sample[];
}
const runs: ServerRun[] = [];
const idleByFormat: Record<string, { p50: number; p99: number; samples: number }> = {};
for (const workers of memoryOnly ? [undefined] : [1, undefined]) {
  const label = workers === undefined ? `default (${host.cpus})` : String(workers);
  console.log(`\n== imgserve run --workers ${label}: ${phaseSeconds} s per concurrency level ==`);
  await using server = await startServerProcess({
    workers,
    fileRoots: roots,
    flags: journalFlags,
    checkout: flags.server,
  });
  const run: ServerRun = { workers: workers ?? "default", levels: [], peakMiB: 0, saturatedJobsPerSecond: 0 };
  const timeline = workers === undefined ? new Timeline(server.pid, server.base) : undefined;
  await timeline?.start();
  timeline?.phase("warm-up");
  // Warm-up: V8's helper threads stay busy for the first half minute or so of
  // load, largely compiling the codecs' hot WebAssembly functions in the
  // background (measured: 4.5% of the CPU after 3 s of warm-up, 3.0% after
  // 40 s, 3.3% after 3 s with tiering off). With two workers that start-up
  // work competes with them; the figures are for a server in steady state.
  const finished = timeline?.finished;
  await runLoad({ base: server.base, jobs, concurrency: 4, durationMs: warmupSeconds * 1000, warmupMs: 0, finished });
  timeline?.phase("levels");
  for (const concurrency of memoryOnly ? [] : levels) {
    const result = await runLoad({ base: server.base, jobs, concurrency, durationMs: phaseSeconds * 1000, finished });
    run.levels.push(result);
    if (result.firstError) console.log(`  c=${concurrency}: first failure: ${result.firstError}`);
  }
  if (!memoryOnly) console.log(loadTable("clients", run.levels, STAGES));
  run.saturatedJobsPerSecond = Math.max(...run.levels.map((r) => r.jobsPerSecond));
  if (workers === undefined && !memoryOnly) {
    timeline?.phase("idle tests");
    const samples = await idleReplyLatency(server.base, BIG_JPEG, `file://${outDir}/idle.jpg`, 12);
    run.idleReplyMs = { p50: percentile(samples, 50), p99: percentile(samples, 99), samples: samples.length };
    console.log(
      `reply latency, idle server, 16 MB JPEG file:// source: p50 ${run.idleReplyMs.p50.toFixed(1)} ms, ` +
        `max ${Math.max(...samples).toFixed(1)} ms (${samples.length} jobs)`,
    );
    for (const [format, ext] of [["png", "png"], ["webp", "webp"], ["avif", "avif"]]) {
      const more = await idleReplyLatency(server.base, BIG_JPEG, `file://${outDir}/idle.${ext}`, 12, format);
      idleByFormat[format] = { p50: percentile(more, 50), p99: percentile(more, 99), samples: more.length };
      console.log(`  the same with a ${format} destination: p50 ${idleByFormat[format].p50.toFixed(1)} ms`);
    }
  }
  if (workers === undefined) {
    const concurrency = 2 * host.cpus;
    console.log(`\n== load phase: ${loadSeconds} s at ${concurrency} clients, RSS sampled every second ==`);
    const rss: number[] = [(await server.memory()).rssMiB];
    timeline!.phase("load");
    const result = await runLoad({
      base: server.base,
      jobs,
      concurrency,
      durationMs: loadSeconds * 1000,
      onTick: async () => void rss.push((await server.memory()).rssMiB),
      finished,
    });
    rss.push((await server.memory()).rssMiB);
    timeline!.phase("idle");
    await new Promise((resolve) => setTimeout(resolve, IDLE_AFTER_S * 1000));
    timeline!.stop();
    run.memory = memorySummary(timeline!.samples);
    // One sample swings by +-10% with garbage collection: compare the median
    // of the first 10 s under load with that of the last 10 s.
    const loaded = rss.slice(1);
    const window = Math.max(1, Math.min(10, Math.floor(loaded.length / 3)));
    run.load = {
      seconds: loadSeconds,
      concurrency,
      rssStartMiB: median(loaded.slice(0, window)),
      rssEndMiB: median(loaded.slice(-window)),
      rssMaxMiB: Math.max(...rss),
      result,
    };
    console.log(loadTable("clients", [result], STAGES));
    console.log(
      `RSS median of the first ${window} s ${run.load.rssStartMiB.toFixed(0)} MiB, of the last ${window} s ${
        run.load.rssEndMiB.toFixed(0)
      } MiB; idle before ${rss[0].toFixed(0)} MiB, max ${run.load.rssMaxMiB.toFixed(0)} MiB`,
    );
    console.log(memoryLine(run.memory));
  }
  run.peakMiB = (await server.memory()).peakMiB;
  console.log(`server peak RSS (VmHWM): ${run.peakMiB.toFixed(0)} MiB`);
  runs.push(run);
}

// The second load: the largest photos and PNGs to 600x400 PNGs, on a fresh default server.
console.log(`\n== large-image load: ${loadSeconds} s at ${2 * host.cpus} clients, the largest photos and PNGs ==`);
const large = await largeImageLoad();
async function largeImageLoad(): Promise<{ result: LoadResult; memory: MemorySummary; peakMiB: number }> {
  await using server = await startServerProcess({ fileRoots: roots, flags: journalFlags, checkout: flags.server });
  const timeline = new Timeline(server.pid, server.base);
  await timeline.start();
  const jobs = largeImageJobs(corpus, outDir);
  const { finished } = timeline;
  timeline.phase("warm-up");
  await runLoad({ base: server.base, jobs, concurrency: 4, durationMs: warmupSeconds * 1000, warmupMs: 0, finished });
  timeline.phase("load");
  const result = await runLoad({
    base: server.base,
    jobs,
    concurrency: 2 * host.cpus,
    durationMs: loadSeconds * 1000,
    finished,
  });
  timeline.phase("idle");
  await new Promise((resolve) => setTimeout(resolve, IDLE_AFTER_S * 1000));
  timeline.stop();
  const memory = memorySummary(timeline.samples);
  console.log(loadTable("clients", [result], STAGES));
  console.log(memoryLine(memory));
  return { result, memory, peakMiB: (await server.memory()).peakMiB };
}

// 3. Summary against the targets.
const many = runs.at(-1)!;
const load = many.load!;
const growth = load.rssEndMiB - load.rssStartMiB;
const memory = many.memory!;
type Target = readonly [string, string, string, boolean];
const memoryTargets: Target[] = [
  [
    `peak RSS in the load phase (server; with render processes)`,
    `${memory.loadPeakMiB.toFixed(0)} MiB; ${memory.loadPeakWithRenderMiB.toFixed(0)} MiB`,
    "<= 400 MiB (server)",
    memory.loadPeakMiB <= 400,
  ],
  [
    `RSS ${SETTLED_AFTER_S} s after the load vs fresh (server; with render)`,
    `${memory.settledMiB.toFixed(0)} / ${memory.freshMiB.toFixed(0)} MiB = ${
      (memory.settledMiB / memory.freshMiB).toFixed(2)
    }x; ${(memory.settledWithRenderMiB / memory.freshWithRenderMiB).toFixed(2)}x`,
    "<= 1.5x (server)",
    memory.settledMiB <= 1.5 * memory.freshMiB,
  ],
  [
    "large-image load: peak RSS; 15 s after vs fresh (server)",
    `${large.memory.loadPeakMiB.toFixed(0)} MiB; ${large.memory.settledMiB.toFixed(0)} / ${
      large.memory.freshMiB.toFixed(0)
    } MiB = ${(large.memory.settledMiB / large.memory.freshMiB).toFixed(2)}x`,
    "<= 400 MiB; <= 1.5x",
    large.memory.loadPeakMiB <= 400 && large.memory.settledMiB <= 1.5 * large.memory.freshMiB,
  ],
  [
    "large-image load: throughput",
    `${large.result.jobsPerSecond.toFixed(2)} jobs/s, ${large.result.megapixelsPerSecond.toFixed(1)} MP/s`,
    "(reported)",
    true,
  ],
  [
    `throughput, load phase (${load.concurrency} clients)`,
    `${load.result.jobsPerSecond.toFixed(2)} jobs/s, ${load.result.megapixelsPerSecond.toFixed(1)} MP/s`,
    "within 5% of the previous commit",
    true,
  ],
  [
    `RSS over ${load.seconds} s load (first -> last 10 s)`,
    `${load.rssStartMiB.toFixed(0)} -> ${load.rssEndMiB.toFixed(0)} MiB`,
    "flat (< 10% growth)",
    growth < 0.1 * load.rssStartMiB,
  ],
];
const targets: Target[] = memoryOnly ? memoryTargets : [
  ...speedTargets(runs[0], many, inProcess!),
  ...sharpTargets(vsSharp!),
  ...multiOutputTargets(multi!),
  ...memoryTargets,
];
const path = await summarize(targets, {
  server: flags.server,
  machine: host,
  options: { loadSeconds, phaseSeconds, levels, reps, warmupSeconds, memoryOnly },
  ...inProcess,
  ...multi,
  vsSharp,
  s3,
  idleReplyByFormat: idleByFormat,
  servers: runs,
  largeImageLoad: large,
  targets: targets.map(([measure, result, target, met]) => ({ measure, result, target, met })),
});
const chart = path.replace(/\.json$/, ".svg");
const largeChart = path.replace(/\.json$/, "-large.svg");
await Deno.writeTextFile(
  chart,
  timelineChart(memory.samples, `imgserve, ${host.cpus} workers: RSS, jobs and busy workers, sampled every second`),
);
await Deno.writeTextFile(
  largeChart,
  timelineChart(large.memory.samples, `imgserve, ${host.cpus} workers, the largest photos and PNGs to 600x400 PNGs`),
);
console.log(`\nresults written to ${path}, charts to ${chart} and ${largeChart}`);

/** The baseline class against sharp, through the server. */
function sharpTargets(c: SharpComparison): Target[] {
  return [
    [
      "baseline JPEG -> 200x120 thumbnails, server / sharp-wasm32 (wall, 2 lanes)",
      `${c.vsWasm32.toFixed(2)}x`,
      "<= 0.9x",
      c.vsWasm32 <= 0.9,
    ],
    ["the same / native sharp", `${c.vsNative.toFixed(2)}x`, "(reported)", true],
  ];
}

/** The targets on speed, from the full run. */
function multiOutputTargets({ multiOutput, serverMultiOutput }: NonNullable<typeof multi>): Target[] {
  return [
    [
      "3 outputs in one task / as 3 tasks (worker time)",
      `${multiOutput.vsSeparate.toFixed(2)}x`,
      "<= 0.6x",
      multiOutput.vsSeparate <= 0.6,
    ],
    [
      "3 outputs in one task / largest output alone",
      `${multiOutput.vsLargest.toFixed(2)}x`,
      "<= 1.6x",
      multiOutput.vsLargest <= 1.6,
    ],
    [
      "one job of 3 outputs / 3 jobs, through the server (worker time)",
      `${(serverMultiOutput.worker.multi / serverMultiOutput.worker.separate).toFixed(2)}x`,
      "<= 0.6x",
      serverMultiOutput.worker.multi / serverMultiOutput.worker.separate <= 0.6,
    ],
    [
      "one job of 3 outputs / its largest output alone, through the server",
      `${(serverMultiOutput.worker.multi / serverMultiOutput.worker.largest).toFixed(2)}x`,
      "<= 1.6x",
      serverMultiOutput.worker.multi / serverMultiOutput.worker.largest <= 1.6,
    ],
  ];
}

function speedTargets(
  one: ServerRun,
  many: ServerRun,
  { speedup }: NonNullable<typeof inProcess>,
): Target[] {
  const scaling = many.saturatedJobsPerSecond / one.saturatedJobsPerSecond;
  return [
    [
      "reply p50, 16 MB JPEG, idle server",
      `${many.idleReplyMs!.p50.toFixed(1)} ms`,
      "< 20 ms",
      many.idleReplyMs!.p50 < 20,
    ],
    [
      "reply p50, WebP destination, idle server",
      `${idleByFormat.webp.p50.toFixed(1)} ms`,
      "< 20 ms",
      idleByFormat.webp.p50 < 20,
    ],
    [
      "reply p50, PNG / AVIF destination, idle server",
      `${idleByFormat.png.p50.toFixed(1)} / ${idleByFormat.avif.p50.toFixed(1)} ms`,
      "< 20 ms (PNG); AVIF reported",
      idleByFormat.png.p50 < 20,
    ],
    [`throughput ${host.cpus} workers / 1 worker`, `${scaling.toFixed(2)}x`, ">= 1.8x", scaling >= 1.8],
    ["thumbnail speed-up, baseline JPEG photos", `${speedup.baseline.toFixed(2)}x`, ">= 3x", speedup.baseline >= 3],
    ["thumbnail speed-up, progressive JPEGs", `${speedup.progressive.toFixed(2)}x`, "(no target)", true],
  ];
}

/** Fresh, peak and settled RSS in one line. */
function memoryLine(m: MemorySummary): string {
  return `RSS (server / with render processes): fresh ${m.freshMiB.toFixed(0)} / ${
    m.freshWithRenderMiB.toFixed(0)
  } MiB, ` +
    `load peak ${m.loadPeakMiB.toFixed(0)} / ${m.loadPeakWithRenderMiB.toFixed(0)} MiB, ` +
    `${SETTLED_AFTER_S} s after the load ${m.settledMiB.toFixed(0)} / ${m.settledWithRenderMiB.toFixed(0)} MiB ` +
    `(${(m.settledMiB / m.freshMiB).toFixed(2)}x / ${
      (m.settledWithRenderMiB / m.freshWithRenderMiB).toFixed(2)
    }x fresh)`;
}

/** Fresh, load-phase peak and settled RSS from the timeline. */
function memorySummary(samples: Sample[]): MemorySummary {
  const withRender = (s: Sample) => s.rssMiB + s.childrenMiB;
  const fresh = samples[0];
  const loaded = samples.filter((s) => s.phase === "load");
  const loadEnd = samples.find((s) => s.phase === "idle")?.t ?? Infinity;
  const settled = samples.find((s) => s.t >= loadEnd + SETTLED_AFTER_S) ?? samples.at(-1)!;
  return {
    freshMiB: fresh.rssMiB,
    freshWithRenderMiB: withRender(fresh),
    loadPeakMiB: Math.max(...loaded.map((s) => s.rssMiB)),
    loadPeakWithRenderMiB: Math.max(...loaded.map(withRender)),
    settledMiB: settled.rssMiB,
    settledWithRenderMiB: withRender(settled),
    samples,
  };
}

/** The journal in the temporary folder, with the flag this version of the server knows. */
async function journalFlagsFor(dir: string): Promise<string[]> {
  const help = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../src/main.ts", import.meta.url).pathname, "--help"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(help.stdout) + new TextDecoder().decode(help.stderr);
  return text.includes("--data-dir") ? ["--data-dir", dir] : [];
}

/** Prints the targets' table and writes the run's JSON (dated, with the commit) under .bench/. */
async function summarize(targets: readonly Target[], results: Record<string, unknown>): Promise<string> {
  console.log("\n== summary ==");
  console.log(
    table(["measure", "result", "target", "met"], targets.map(([m, r, t, ok]) => [m, r, t, ok ? "yes" : "NO"])),
  );
  return await writeResults(new URL("../.bench", import.meta.url).pathname, {
    date: new Date().toISOString(),
    commit: await gitCommit(),
    ...results,
  });
}

async function gitCommit(): Promise<string | undefined> {
  try {
    const { stdout } = await new Deno.Command("git", { args: ["rev-parse", "HEAD"], stdout: "piped", stderr: "null" })
      .output();
    return new TextDecoder().decode(stdout).trim() || undefined;
  } catch {
    return undefined;
  }
}

async function tempDir(): Promise<{ path: string } & AsyncDisposable> {
  const path = await Deno.makeTempDir({ prefix: "imgserve-bench-" });
  return { path, [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }) };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
