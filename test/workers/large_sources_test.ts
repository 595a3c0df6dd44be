/**
 * Large sources under the default limits: every format's costliest source
 * at --max-source-pixels fits the default --worker-memory, to a thumbnail
 * and to the largest results, and a real decode never needs more than the
 * 508 check estimated. The codecs are loaded into this test's own realm,
 * after its memories are tracked, so each decode's growth is seen.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { decode } from "../helpers/images.ts";
import { resizeJob } from "../helpers/jobs.ts";
import { serve, tempDir, testConfig } from "../helpers/server.ts";
import { tool } from "../helpers/tools.ts";
import { readHeader } from "../../src/image/header.ts";
import { planJob } from "../../src/job/planner.ts";
import type { JobArgs } from "../../src/job/request.ts";
import type { ImageHeader, OutputFormat, Plan } from "../../protocol/plan.ts";
import { WorkerPool } from "../../src/pool/pool.ts";
import { budgeted, type WorkerMemory } from "../../protocol/memory.ts";
import { planMemoryBytes } from "../../protocol/plan_memory.ts";
import { trackWasmMemories, wasmMemoryBytes } from "../../workers/wasm_memory.ts";
import { compileCodecs, initCodecs } from "../../workers/wasm.ts";
import { decodeSource, makeOutput } from "../../workers/pipeline/mod.ts";
import { lastDecodeGrowth, setDecoderBudget } from "../../workers/ops/decoder_memory.ts";
import { StageTimer } from "../../workers/ops/timer.ts";

const MiB = 1024 * 1024;

function plan(source: ImageHeader, args: Partial<JobArgs>): Plan {
  const { limits } = testConfig();
  const job = { operationType: "resize" as const, args: { mode: "cover", ...args } as JobArgs };
  return planJob(job, source, limits.maxSide, limits.maxResultPixels);
}

/** A thumbnail, then the largest results the default limits allow, in every format. */
function results(): Partial<JobArgs>[] {
  const { limits } = testConfig();
  const side = Math.floor(Math.sqrt(limits.maxResultPixels));
  const sizes = [[limits.maxSide, Math.floor(limits.maxResultPixels / limits.maxSide)], [side, side], [3840, 2160]];
  const all: Partial<JobArgs>[] = [{ width: 200, height: 120, format: "jpeg" }];
  for (const [width, height] of sizes) {
    for (const format of ["jpeg", "png", "webp", "avif"] as OutputFormat[]) {
      all.push({ width, height, format });
      if (format === "webp") all.push({ width, height, format, lossless: true });
    }
  }
  return all;
}

/** Each format's costliest kind of source with `pixels` pixels, square, and as wide as the format allows. */
function sources(pixels: number, avif: boolean): ImageHeader[] {
  const kinds: Omit<ImageHeader, "width" | "height">[] = avif
    ? [{ format: "avif", orientation: 1, hasAlpha: false }, { format: "avif", orientation: 1, hasAlpha: true }]
    : [
      { format: "jpeg", orientation: 1, hasAlpha: false, progressiveSamples: 3 },
      { format: "jpeg", orientation: 1, hasAlpha: false },
      { format: "png", orientation: 1, hasAlpha: true },
      { format: "webp", orientation: 1, hasAlpha: true },
      { format: "gif", orientation: 1, hasAlpha: true },
      { format: "bmp", orientation: 1, hasAlpha: true },
    ];
  const headers: ImageHeader[] = [];
  for (const kind of kinds) {
    const widest = kind.format === "webp" || kind.format === "avif" ? 16383 : 65535;
    const side = Math.floor(Math.sqrt(pixels));
    for (const width of [side, widest]) headers.push({ ...kind, width, height: Math.floor(pixels / width) });
  }
  return headers;
}

async function freshWorker(): Promise<number> {
  await using probe = await WorkerPool.start({ size: 1, fontDirs: [], taskTimeoutMs: 60_000 });
  return budgeted(probe.fresh!);
}

/** Plans over the default --worker-memory, as "name: MiB". */
function overBudget(headers: ImageHeader[], fresh: number): string[] {
  const budget = testConfig().workerMemory;
  const over: string[] = [];
  for (const source of headers) {
    for (const args of results()) {
      const need = fresh + planMemoryBytes(plan(source, args));
      if (need > budget) {
        over.push(
          `${source.width}x${source.height} ${source.format}${source.progressiveSamples ? " progressive" : ""}` +
            `${source.hasAlpha ? " with alpha" : ""} to ${args.width}x${args.height} ${args.format}` +
            `${args.lossless ? " lossless" : ""}: ${Math.ceil(need / MiB)} MiB`,
        );
      }
    }
  }
  return over;
}

Deno.test("the default limits agree for sources: every format at --max-source-pixels fits, to a thumbnail and to the largest results", async () => {
  const fresh = await freshWorker();
  assertEquals(overBudget(sources(testConfig().limits.maxSourcePixels, false), fresh), []);
});

Deno.test("AVIF sources, whose decoder needs 20-40 bytes a pixel, fit up to 20 MP without alpha and 10 MP with it", async () => {
  const fresh = await freshWorker();
  const fitting = sources(20_000_000, true).filter((s) => !s.hasAlpha)
    .concat(sources(10_000_000, true).filter((s) => s.hasAlpha));
  assertEquals(overBudget(fitting, fresh), []);
});

trackWasmMemories();
let loaded: Promise<void> | undefined;

/**
 * What the worker's memories grow by for `args` from `bytes`, at their peak
 * (the decode's, or the encode's with what was kept of the decode), under
 * the tightest budget the 508 check admits the job at.
 */
async function peakGrowth(bytes: Uint8Array, args: Partial<JobArgs>): Promise<{ peak: number; plan: Plan }> {
  await (loaded ??= compileCodecs().then(initCodecs));
  const p = plan(readHeader(bytes, true), args);
  const before = wasmMemoryBytes();
  // The tightest budget the 508 check would admit it under: the decode is kept only if the encode fits beside it.
  setDecoderBudget(before + planMemoryBytes(p));
  const timer = new StageTimer();
  await makeOutput(await decodeSource(bytes, [p], timer), p, timer);
  return { peak: Math.max(lastDecodeGrowth(), wasmMemoryBytes() - before), plan: p };
}

Deno.test("a large source's decode, and the encode after it, grow no more than the 508 check estimated", async () => {
  await using dir = await tempDir();
  const at = (name: string) => `${dir.path}/${name}`;
  const size = "2500x2000";
  await tool("convert", ["-size", size, "gradient:red-blue", "-colors", "200", `PNG8:${at("palette.png")}`]);
  await tool("convert", [
    ...["-size", size, "gradient:red-blue", "-alpha", "set", "-channel", "A", "-evaluate", "set", "50%", "+channel"],
    `PNG32:${at("alpha.png")}`,
  ]);
  await tool("convert", [
    ...["-size", size, "gradient:red-blue", "-quality", "90", "-sampling-factor", "1x1", "-interlace", "JPEG"],
    at("progressive.jpg"),
  ]);
  await tool("convert", [at("alpha.png"), `BMP:${at("alpha.bmp")}`]);
  await tool("cwebp", ["-lossless", "-z", "0", "-quiet", at("alpha.png"), "-o", at("lossless.webp")]);
  await tool("avifenc", ["-s", "10", "-y", "444", at("alpha.png"), at("alpha.avif")]);
  const files = ["progressive.jpg", "palette.png", "lossless.webp", "alpha.bmp", "alpha.avif"];
  for (const name of files) {
    const bytes = await Deno.readFile(at(name));
    for (const args of [{ width: 200, height: 120, format: "png" as const }, { width: 1600, height: 1000 }]) {
      const { peak, plan } = await peakGrowth(bytes, args);
      const estimate = planMemoryBytes(plan);
      assert(
        peak <= estimate,
        `${name} to ${args.width}x${args.height}: grew ${peak / MiB} MiB, estimated ${estimate / MiB}`,
      );
    }
  }
});

/** Every worker's memory, from /healthz. */
async function workerMemory(base: string): Promise<WorkerMemory[]> {
  return (await (await fetch(`${base}/healthz`)).json()).memory.workers;
}

Deno.test("with the default flags, a progressive 4:4:4 JPEG at --max-source-pixels becomes a thumbnail and a 4K image", async () => {
  const { limits, workerMemory: budget } = testConfig();
  const width = 8000, height = Math.floor(limits.maxSourcePixels / width);
  await using dir = await tempDir();
  await tool("convert", [
    ...["-size", `${width}x${height}`, "gradient:red-blue", "-quality", "90", "-sampling-factor", "1x1"],
    ...["-interlace", "JPEG", `${dir.path}/large.jpg`],
  ]);
  await using imgserve = await serve();
  for (const [w, h] of [[200, 120], [3840, 2160]]) {
    const reply = await imgserve.post(
      resizeJob(`file://${dir.path}/large.jpg`, `file://${dir.path}/${w}.jpg`, { width: w, height: h }),
    );
    assertEquals(reply.status, 202, JSON.stringify(reply.json));
    const job = await imgserve.finished(reply.json.id as string);
    assertEquals(job.state, "done", JSON.stringify(job));
    const image = await decode(await Deno.readFile(`${dir.path}/${w}.jpg`));
    assertEquals([image.width, image.height], [w, h]);
  }
  for (const memory of await workerMemory(imgserve.base)) {
    assert(budgeted(memory) <= budget, `a worker holds ${budgeted(memory) / MiB} MiB, over ${budget / MiB}`);
  }
});
