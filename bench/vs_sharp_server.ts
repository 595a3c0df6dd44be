/**
 * The baseline-photo thumbnail (200x120 cover JPEG q80) through a running
 * `imgserve run` with 2 workers, against sharp's WebAssembly build
 * (`@img/sharp-wasm32`) and its native build on the same files in the same
 * run: every side with 2 lanes (two jobs or pipelines in flight at once)
 * and sharp with `concurrency(1)` and its cache off, each writing its
 * thumbnails to files. The three take turns; each turn runs one pass of
 * the photos to warm up, then a fixed number of passes timed by wall clock
 * and by the process's CPU time (the server's with all its threads).
 *
 * Each sharp is installed with npm into a folder of its own under .bench/:
 * under a folder whose node_modules holds the native build, sharp loads
 * that one, saying nothing, even when the wasm32 one is there too. So the
 * script reports the binding it loaded, and a wasm32 turn that loaded
 * anything else is an error.
 *
 * Alone: `deno run -A bench/vs_sharp_server.ts [--passes N] [--turns N]`,
 * or `deno task bench --sharp-only`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { type CorpusImage, ensureCorpus, listCorpus } from "./corpus.ts";
import { callbackReceiver } from "./load.ts";
import { table } from "./report.ts";
import { startServerProcess } from "./server_process.ts";

const SHARP = "0.35.5";

/** The two sharp builds, each in its own folder. */
export const SHARP_BUILDS = {
  wasm32: { dir: ".bench/sharp-wasm", npmArgs: ["--cpu=wasm32"], binding: /@img\/sharp-wasm32\// },
  native: { dir: ".bench/sharp-native", npmArgs: [], binding: /@img\/sharp-(linux|linuxmusl|darwin|win32)-/ },
} as const;

/** A side's timed passes: wall and CPU ms, and the mean size of its thumbnails. */
export interface SideTimes {
  wallMs: number;
  cpuMs: number;
  meanBytes: number;
}

/** One turn of the three sides. */
export interface SharpTurn {
  ours: SideTimes;
  wasm32: SideTimes;
  native: SideTimes;
}

/** The comparison: every turn, and the medians of the ratios of wall time. */
export interface SharpComparison {
  photos: number;
  passes: number;
  turns: SharpTurn[];
  /** Ours / sharp's wall time, median over the turns. */
  vsWasm32: number;
  vsNative: number;
  /** Which module each sharp loaded. */
  bindings: { wasm32: string; native: string };
}

/** Two lanes through one sharp, in a process of its own; prints the binding it loaded and its times as JSON. */
const LANES_SCRIPT = `
import sharp from "sharp";
import fs from "node:fs";
import { createRequire } from "node:module";
sharp.concurrency(1);
sharp.cache(false);
const [passes, out, ...files] = process.argv.slice(2);
const binding = Object.keys(createRequire(import.meta.url).cache)
  .find((path) => /@img\\/sharp-[^/]+\\/lib\\/sharp-.*\\.node/.test(path)) ?? "none";
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
async function run(n) {
  const queue = Array.from({ length: n }, () => files).flat();
  let next = 0;
  await Promise.all([0, 1].map(async (lane) => {
    while (next < queue.length) {
      const index = next++;
      await sharp(queue[index]).rotate().resize(200, 120, { fit: "cover", kernel: "lanczos3" })
        .jpeg({ quality: 80 }).toFile(out + "/" + lane + "-" + (index % files.length) + ".jpg");
    }
  }));
}
await run(1);
const wall = performance.now(), used = cpu();
await run(Number(passes));
const wallMs = performance.now() - wall, cpuMs = cpu() - used;
const sizes = fs.readdirSync(out).map((name) => fs.statSync(out + "/" + name).size);
console.log(JSON.stringify({ binding, wallMs, cpuMs, meanBytes: sizes.reduce((a, b) => a + b, 0) / sizes.length }));
`;

async function run(cmd: string, args: string[], cwd?: string): Promise<string> {
  const { code, stdout, stderr } = await new Deno.Command(cmd, { args, cwd, stdout: "piped", stderr: "piped" })
    .output();
  if (code !== 0) throw new Error(`${cmd} ${args.join(" ")} failed: ${new TextDecoder().decode(stderr)}`);
  return new TextDecoder().decode(stdout);
}

/** Installs a sharp build into its folder on first use, and writes the lanes script beside it. */
export async function ensureSharpBuild(build: keyof typeof SHARP_BUILDS): Promise<string> {
  const { dir, npmArgs } = SHARP_BUILDS[build];
  const path = new URL(`../${dir}`, import.meta.url).pathname;
  const installed = await Deno.stat(`${path}/node_modules/sharp/package.json`).then(() => true, () => false);
  if (!installed) {
    await Deno.mkdir(path, { recursive: true });
    await Deno.writeTextFile(`${path}/package.json`, JSON.stringify({ name: `sharp-${build}-bench`, private: true }));
    console.log(`bench: installing sharp ${SHARP} (${build}) with npm into ${dir}`);
    await run("npm", ["install", ...npmArgs, `sharp@${SHARP}`], path);
  }
  await Deno.writeTextFile(`${path}/lanes.mjs`, LANES_SCRIPT);
  return path;
}

/** Passes of the photos through sharp with two lanes; throws if the build loaded is not the one asked for. */
async function sharpTurn(
  build: keyof typeof SHARP_BUILDS,
  dir: string,
  photos: CorpusImage[],
  passes: number,
  out: string,
): Promise<SideTimes & { binding: string }> {
  await Deno.remove(out, { recursive: true }).catch(() => {});
  await Deno.mkdir(out, { recursive: true });
  const args = ["run", "-A", "lanes.mjs", String(passes), out, ...photos.map((p) => p.path)];
  const result = JSON.parse((await run(Deno.execPath(), args, dir)).trim().split("\n").at(-1)!);
  if (!SHARP_BUILDS[build].binding.test(result.binding)) {
    throw new Error(`the ${build} sharp in ${dir} loaded ${result.binding}`);
  }
  return result;
}

/** Server CPU time (all threads) in ms, from /proc. */
async function processCpuMs(pid: number): Promise<number> {
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // utime and stime, fields 14 and 15 of stat(5), in clock ticks of 10 ms.
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Passes of the photos through the server with two lanes, each lane posting a job and awaiting its callback. */
async function serverTurn(base: string, pid: number, photos: CorpusImage[], passes: number, out: string) {
  const callbacks = callbackReceiver();
  const lanes = async (n: number) => {
    const queue = Array.from({ length: n }, () => photos).flat();
    let next = 0;
    await Promise.all([0, 1].map(async (lane) => {
      while (next < queue.length) {
        const index = next++;
        const response = await fetch(`${base}/`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            operationType: "resize",
            srcURL: `file://${queue[index].path}`,
            dstURL: `file://${out}/${lane}-${index % photos.length}.jpg`,
            args: { width: 200, height: 120, mode: "cover", format: "jpeg", quality: 80 },
            callbackURL: callbacks.url,
          }),
        });
        const reply = await response.json();
        if (response.status !== 202) throw new Error(`job refused: ${JSON.stringify(reply)}`);
        const state = await callbacks.wait(reply.id);
        if (state !== "done") throw new Error(`job ${reply.id} ${state}`);
      }
    }));
  };
  try {
    await lanes(1);
    const wall = performance.now(), used = await processCpuMs(pid);
    await lanes(passes);
    const wallMs = performance.now() - wall, cpuMs = await processCpuMs(pid) - used;
    const sizes = [...Deno.readDirSync(out)].map((entry) => Deno.statSync(`${out}/${entry.name}`).size);
    return { wallMs, cpuMs, meanBytes: sizes.reduce((a, b) => a + b, 0) / sizes.length };
  } finally {
    await callbacks.close();
  }
}

/** Runs the three sides in turns on the baseline photos. */
export async function compareWithSharp(
  photos: CorpusImage[],
  options: { passes: number; turns: number; work: string; flags?: string[]; checkout?: string },
): Promise<SharpComparison> {
  const dirs = { wasm32: await ensureSharpBuild("wasm32"), native: await ensureSharpBuild("native") };
  const out = (side: string) => `${options.work}/${side}`;
  await Deno.mkdir(out("ours"), { recursive: true });
  await using server = await startServerProcess({
    workers: 2,
    fileRoots: ["/usr/share/backgrounds", out("ours")],
    flags: options.flags,
    checkout: options.checkout,
  });
  const turns: SharpTurn[] = [];
  const bindings = { wasm32: "", native: "" };
  for (let turn = 0; turn < options.turns; turn++) {
    const ours = await serverTurn(server.base, server.pid, photos, options.passes, out("ours"));
    const sides: Record<string, SideTimes> = {};
    for (const build of ["wasm32", "native"] as const) {
      const { binding, ...times } = await sharpTurn(build, dirs[build], photos, options.passes, out(build));
      bindings[build] = binding.replace(/^.*node_modules\//, "");
      sides[build] = times;
    }
    turns.push({ ours, wasm32: sides.wasm32, native: sides.native });
  }
  const ratio = (build: "wasm32" | "native") => median(turns.map((t) => t.ours.wallMs / t[build].wallMs));
  return {
    photos: photos.length,
    passes: options.passes,
    turns,
    vsWasm32: ratio("wasm32"),
    vsNative: ratio("native"),
    bindings,
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Every turn's times and ratios, as a table. */
export function sharpTable(c: SharpComparison): string {
  const rows = c.turns.flatMap((t, k) =>
    (["ours", "wasm32", "native"] as const).map((side) => [
      `turn ${k + 1}: ${side === "ours" ? "imgserve, 2 workers" : `sharp ${side}`}`,
      t[side].wallMs.toFixed(0),
      t[side].cpuMs.toFixed(0),
      t[side].meanBytes.toFixed(0),
      side === "ours" ? "" : `${(t.ours.wallMs / t[side].wallMs).toFixed(2)}x`,
    ])
  );
  return table(
    [`${c.photos} photos x ${c.passes} passes, 2 lanes`, "wall ms", "CPU ms", "bytes/thumb", "ours / it (wall)"],
    rows,
  );
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { passes: { type: "string", default: "6" }, turns: { type: "string", default: "3" } },
  });
  await ensureCorpus();
  const photos = (await listCorpus()).filter((i) => i.format === "jpeg" && i.coding === "baseline");
  const work = await Deno.makeTempDir({ prefix: "imgserve-bench-" });
  try {
    const result = await compareWithSharp(photos, {
      passes: Number(values.passes),
      turns: Number(values.turns),
      work,
      flags: ["--data-dir", work],
    });
    console.log(sharpTable(result));
    console.log(
      `ours / sharp-wasm32 ${result.vsWasm32.toFixed(2)}x, ours / native sharp ${result.vsNative.toFixed(2)}x ` +
        `(wall time, median of ${result.turns.length} turns; loaded ${result.bindings.wasm32} and ${result.bindings.native})`,
    );
  } finally {
    await Deno.remove(work, { recursive: true });
  }
}
