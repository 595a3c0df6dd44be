/**
 * The 200x120 cover thumbnail (JPEG q80) of each baseline corpus photo, by
 * our pipeline in this process and by sharp's WebAssembly build in a
 * process of its own, the two taking turns: sums of per-photo medians of
 * wall and process CPU time. sharp is installed with npm (`--cpu=wasm32`)
 * into `.bench/sharp-wasm` on first use; pin both to one core with
 * `taskset -c 1` on a shared machine (docs/performance.md).
 *
 * `deno run -A bench/vs_sharp.ts [--reps N] [--pairs N]`
 *
 * @module
 */
import process from "node:process";
import { parseArgs } from "node:util";
import { StageTimer } from "../workers/ops/timer.ts";
import { loadCodecs } from "../workers/wasm.ts";
import { makeOne, planOf } from "./pipelines.ts";
import { ensureCorpus, listCorpus } from "./corpus.ts";

const SHARP = "0.35.5";
const DIR = ".bench/sharp-wasm";

/** The same job through sharp; prints `wall CPU` in ms, summed over the photos. */
const SHARP_SCRIPT = `
import sharp from "sharp";
import fs from "node:fs";
sharp.concurrency(1);
sharp.cache(false);
const [reps, ...files] = process.argv.slice(2);
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const median = (v) => { const s = [...v].sort((a, b) => a - b), m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
let wall = 0, used = 0;
for (const file of files) {
  const bytes = fs.readFileSync(file), walls = [], cpus = [];
  for (let rep = 0; rep <= Number(reps); rep++) {
    const t = performance.now(), c = cpu();
    await sharp(bytes).rotate().resize(200, 120, { fit: "cover", kernel: "lanczos3" }).jpeg({ quality: 80 }).toBuffer();
    if (rep > 0) { walls.push(performance.now() - t); cpus.push(cpu() - c); }
  }
  wall += median(walls); used += median(cpus);
}
console.log(wall, used);
`;

const cpu = () => {
  const used = process.cpuUsage();
  return (used.user + used.system) / 1000;
};

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

async function run(cmd: string, args: string[], cwd?: string): Promise<string> {
  const { code, stdout, stderr } = await new Deno.Command(cmd, { args, cwd, stdout: "piped", stderr: "piped" })
    .output();
  if (code !== 0) throw new Error(`${cmd} ${args.join(" ")} failed: ${new TextDecoder().decode(stderr)}`);
  return new TextDecoder().decode(stdout);
}

async function ensureSharp(): Promise<void> {
  const installed = await Deno.stat(`${DIR}/node_modules/@img/sharp-wasm32`).then(() => true, () => false);
  if (!installed) {
    await Deno.mkdir(DIR, { recursive: true });
    await Deno.writeTextFile(`${DIR}/package.json`, JSON.stringify({ name: "sharp-wasm-bench", private: true }));
    console.log(`bench: installing sharp ${SHARP} (wasm32) with npm into ${DIR}`);
    await run("npm", ["install", "--cpu=wasm32", `sharp@${SHARP}`], DIR);
  }
  await Deno.writeTextFile(`${DIR}/thumbs.mjs`, SHARP_SCRIPT);
}

const { values } = parseArgs({ args: Deno.args, options: { reps: { type: "string" }, pairs: { type: "string" } } });
const reps = Number(values.reps ?? 5);
const pairs = Number(values.pairs ?? 3);
await ensureCorpus();
await ensureSharp();
await loadCodecs();
const photos = (await listCorpus()).filter((i) => i.format === "jpeg" && i.coding === "baseline");
const jobs = await Promise.all(photos.map(async (image) => {
  const plan = planOf(image);
  return { bytes: await Deno.readFile(image.path), plan };
}));
console.log(`${photos.length} baseline photos, ${reps} timed runs each after a warm-up, ${pairs} pairs`);
for (let pair = 0; pair < pairs; pair++) {
  const [sharpWall, sharpCpu] =
    (await run(Deno.execPath(), ["run", "-A", "thumbs.mjs", String(reps), ...photos.map((p) => p.path)], DIR))
      .trim().split(" ").map(Number);
  let wall = 0, used = 0;
  for (const { bytes, plan } of jobs) {
    const walls: number[] = [], cpus: number[] = [];
    for (let rep = 0; rep <= reps; rep++) {
      const t = performance.now(), c = cpu();
      await makeOne(bytes, plan, new StageTimer());
      if (rep > 0) walls.push(performance.now() - t), cpus.push(cpu() - c);
    }
    wall += median(walls);
    used += median(cpus);
  }
  console.log(
    `pair ${pair + 1}: sharp ${sharpWall.toFixed(0)} ms wall, ${sharpCpu.toFixed(0)} ms CPU; ours ${
      wall.toFixed(0)
    } ms, ` +
      `${used.toFixed(0)} ms; ours/sharp wall ${(wall / sharpWall).toFixed(3)}, CPU ${(used / sharpCpu).toFixed(3)}`,
  );
}
