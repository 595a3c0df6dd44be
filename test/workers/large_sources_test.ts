/**
 * Large sources under the default limits: every format's costliest source
 * at the most pixels it may have (--max-source-pixels; less for an AVIF,
 * see sourcePixelLimit) fits the default --worker-memory, to a thumbnail
 * and to the largest results; a larger AVIF is refused from its header;
 * and a real decode never needs more than the 508 check estimated. The codecs are loaded into this test's own realm,
 * after its memories are tracked, so each decode's growth is seen.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { decode } from "../helpers/images.ts";
import { resizeJob } from "../helpers/jobs.ts";
import { serve, tempDir, testConfig } from "../helpers/server.ts";
import { tool } from "../helpers/tools.ts";
import { readHeader } from "../../src/image/header.ts";
import { planJob } from "../../src/job/planner.ts";
import type { JobArgs } from "../../src/job/job_args.ts";
import type { ImageHeader, OutputFormat, Plan } from "../../protocol/plan.ts";
import { WorkerPool } from "../../src/pool/pool.ts";
import { budgeted, type WorkerMemory } from "../../protocol/memory.ts";
import { planMemoryBytes, sourcePixelLimit } from "../../protocol/plan_memory.ts";
import { trackWasmMemories, wasmMemoryBytes } from "../../workers/wasm_memory.ts";
import { compileCodecs, initCodecs } from "../../workers/wasm.ts";
import { decodeSource, makeOutput } from "../../workers/pipeline/mod.ts";
import { lastDecodeGrowth, setDecoderBudget } from "../../workers/ops/decoder_memory.ts";
import { StageTimer } from "../../workers/ops/timer.ts";

const MiB = 1024 * 1024;
/** ImageMagick's arguments that give an image an alpha channel of one half. */
const HALF_ALPHA = ["-alpha", "set", "-channel", "A", "-evaluate", "set", "50%", "+channel"];

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

/** Each format's costliest kinds of source at the most pixels each may have, square, and as wide as the format allows. */
function sources(): ImageHeader[] {
  const kinds: Omit<ImageHeader, "width" | "height">[] = [
    { format: "jpeg", orientation: 1, hasAlpha: false, progressiveSamples: 3 },
    { format: "jpeg", orientation: 1, hasAlpha: false },
    { format: "png", orientation: 1, hasAlpha: true },
    { format: "webp", orientation: 1, hasAlpha: true },
    { format: "gif", orientation: 1, hasAlpha: true },
    { format: "bmp", orientation: 1, hasAlpha: true },
    // A TIFF in strips of 64 KiB, whatever its width: the usual layout (one strip of the whole image is refused, 508).
    { format: "tiff", orientation: 1, hasAlpha: true, blockBytes: 65536 },
    { format: "avif", orientation: 1, hasAlpha: false },
    { format: "avif", orientation: 1, hasAlpha: true },
    { format: "heic", orientation: 1, hasAlpha: false },
  ];
  const headers: ImageHeader[] = [];
  for (const kind of kinds) {
    const pixels = sourcePixelLimit(kind, testConfig().limits.maxSourcePixels);
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

Deno.test("the default limits agree for sources: every format at the most pixels it may have fits, to a thumbnail and to the largest results", async () => {
  const fresh = await freshWorker();
  assertEquals(overBudget(sources(), fresh), []);
});

Deno.test("an AVIF over its own pixel limit (what its decoder can have within the memory other sources get) is refused from its header with 502", async () => {
  await using dir = await tempDir();
  // At 4 MP, an AVIF may have 2.2 MP, 1.1 MP with alpha: this 1.5 MP one is refused with alpha, made without.
  await using imgserve = await serve(["--max-source-pixels", "4000000"]);
  await tool("convert", ["-size", "1500x1000", "gradient:red-blue", `PNG24:${dir.path}/opaque.png`]);
  await tool("convert", [`${dir.path}/opaque.png`, ...HALF_ALPHA, `PNG32:${dir.path}/alpha.png`]);
  for (const name of ["opaque", "alpha"]) {
    await tool("avifenc", ["-s", "10", `${dir.path}/${name}.png`, `${dir.path}/${name}.avif`]);
  }
  const refused = await imgserve.post(
    resizeJob(`file://${dir.path}/alpha.avif`, `file://${dir.path}/alpha.jpg`, { width: 100 }),
  );
  assertEquals([refused.status, refused.json.code], [413, 502], JSON.stringify(refused.json));
  assert(
    /over the limit of 1100000 pixels for an AVIF with alpha/.test(String(refused.json.error)),
    String(refused.json.error),
  );
  assertEquals(await Deno.stat(`${dir.path}/alpha.jpg`).catch(() => null), null, "nothing is written");
  for (const name of ["opaque.avif", "alpha.png"]) {
    const reply = await imgserve.post(
      resizeJob(`file://${dir.path}/${name}`, `file://${dir.path}/${name}.jpg`, { width: 100 }),
    );
    assertEquals(reply.status, 202, `${name}: ${JSON.stringify(reply.json)}`);
    assertEquals((await imgserve.finished(reply.json.id as string)).state, "done", name);
  }
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

/** A square as ImageMagick's -size: the largest within `pixels`. */
function square(pixels: number): string {
  const side = Math.floor(Math.sqrt(pixels));
  return `${side}x${side}`;
}

/**
 * Each format's costliest kind of source at the most pixels it may have,
 * made by the real tools in `dir`: file names.
 */
async function largestSources(dir: string): Promise<string[]> {
  const at = (name: string) => `${dir}/${name}`;
  const most = testConfig().limits.maxSourcePixels;
  const full = square(most);
  // Quantized small and scaled up: quantizing 40 MP takes minutes.
  await tool("convert", [
    "-size",
    "200x200",
    "gradient:red-blue",
    "-colors",
    "200",
    "-scale",
    full,
    `PNG8:${at("palette.png")}`,
  ]);
  await tool("convert", ["-size", full, "gradient:red-blue", ...HALF_ALPHA, `PNG32:${at("alpha.png")}`]);
  await tool("convert", [
    ...["-size", full, "gradient:red-blue", "-quality", "90", "-sampling-factor", "1x1", "-interlace", "JPEG"],
    at("progressive.jpg"),
  ]);
  await tool("convert", [at("alpha.png"), `BMP:${at("alpha.bmp")}`]);
  await tool("convert", [at("palette.png"), at("palette.gif")]);
  await tool("cwebp", ["-lossless", "-z", "0", "-quiet", at("alpha.png"), "-o", at("lossless.webp")]);
  const avif = square(sourcePixelLimit({ format: "avif", hasAlpha: false }, most));
  const avifAlpha = square(sourcePixelLimit({ format: "avif", hasAlpha: true }, most));
  await tool("convert", ["-size", avif, "gradient:red-blue", `PNG24:${at("opaque-avif.png")}`]);
  await tool("convert", ["-size", avifAlpha, "gradient:red-blue", ...HALF_ALPHA, `PNG32:${at("alpha-avif.png")}`]);
  await tool("avifenc", ["-s", "10", "-y", "444", at("opaque-avif.png"), at("opaque.avif")]);
  await tool("avifenc", ["-s", "10", "-y", "444", at("alpha-avif.png"), at("alpha.avif")]);
  // 10-bit is HEIC's costliest kind: libheif holds 16-bit planes before it makes 8-bit RGBA.
  const heic = square(sourcePixelLimit({ format: "heic", hasAlpha: false }, most));
  await tool("convert", ["-size", heic, "gradient:red-blue", "-depth", "16", `PNG48:${at("deep-heic.png")}`]);
  await tool("heif-enc", [
    "-q",
    "50",
    "-b",
    "10",
    "-p",
    "preset=ultrafast",
    "-o",
    at("deep.heic"),
    at("deep-heic.png"),
  ]);
  return [
    "progressive.jpg",
    "palette.png",
    "lossless.webp",
    "palette.gif",
    "alpha.bmp",
    "opaque.avif",
    "alpha.avif",
    "deep.heic",
  ];
}

Deno.test("each format at the most pixels it may have becomes a thumbnail and the largest result, growing no more than the 508 check estimated", async () => {
  await using dir = await tempDir();
  const { limits } = testConfig();
  const side = Math.floor(Math.sqrt(limits.maxResultPixels));
  for (const name of await largestSources(dir.path)) {
    const bytes = await Deno.readFile(`${dir.path}/${name}`);
    for (const args of [{ width: 200, height: 120, format: "png" as const }, { width: side, height: side }]) {
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

Deno.test("with the default flags, a progressive 4:4:4 JPEG at --max-source-pixels and an AVIF with alpha at its own limit become a thumbnail and a 4K image", async () => {
  const { limits, workerMemory: budget } = testConfig();
  const width = 8000, height = Math.floor(limits.maxSourcePixels / width);
  await using dir = await tempDir();
  await tool("convert", [
    ...["-size", `${width}x${height}`, "gradient:red-blue", "-quality", "90", "-sampling-factor", "1x1"],
    ...["-interlace", "JPEG", `${dir.path}/large.jpg`],
  ]);
  const avif = square(sourcePixelLimit({ format: "avif", hasAlpha: true }, limits.maxSourcePixels));
  await tool("convert", [
    ...["-size", avif, "gradient:red-blue", ...HALF_ALPHA],
    `PNG32:${dir.path}/large.png`,
  ]);
  await tool("avifenc", ["-s", "10", "-y", "444", `${dir.path}/large.png`, `${dir.path}/large.avif`]);
  await using imgserve = await serve();
  for (const source of ["large.jpg", "large.avif"]) {
    for (const [w, h] of [[200, 120], [3840, 2160]]) {
      const reply = await imgserve.post(
        resizeJob(`file://${dir.path}/${source}`, `file://${dir.path}/${source}-${w}.jpg`, { width: w, height: h }),
      );
      assertEquals(reply.status, 202, `${source}: ${JSON.stringify(reply.json)}`);
      const job = await imgserve.finished(reply.json.id as string);
      assertEquals(job.state, "done", JSON.stringify(job));
      const image = await decode(await Deno.readFile(`${dir.path}/${source}-${w}.jpg`));
      assertEquals([image.width, image.height], [w, h]);
    }
  }
  for (const memory of await workerMemory(imgserve.base)) {
    assert(budgeted(memory) <= budget, `a worker holds ${budgeted(memory) / MiB} MiB, over ${budget / MiB}`);
  }
});
