/**
 * The benchmark's results as terminal tables and as a JSON file under
 * .bench/, so runs on different commits can be compared.
 *
 * @module
 */
import type { LoadResult } from "./load.ts";
import type { PipelineResult } from "./pipelines.ts";
import type { MultiOutputResult } from "./multi_output.ts";

/** A plain text table with right-aligned numbers. */
export function table(headers: string[], rows: (string | number)[][]): string {
  const cells = rows.map((row) => row.map((v) => typeof v === "number" ? fixed(v) : v));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((row) => row[i]?.length ?? 0)));
  const line = (row: string[]) =>
    row.map((v, i) => i === 0 ? v.padEnd(widths[i]) : v.padStart(widths[i])).join("  ").trimEnd();
  return [line(headers), widths.map((w) => "-".repeat(w)).join("  "), ...cells.map(line)].join("\n");
}

function fixed(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  return Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2);
}

/** The pipeline comparison as a table. */
export function pipelineTable(results: PipelineResult[]): string {
  return table(
    ["image", "size", "coding", "naive ms", "ours ms", "speed-up", "PSNR dB"],
    results.map((r) => [r.name, r.size, r.coding, r.naiveMs, r.oursMs, `${r.speedup.toFixed(2)}x`, r.psnr]),
  );
}

/** Several outputs in one task against separate tasks, as a table. */
export function multiOutputTable(r: MultiOutputResult): string {
  return table(
    ["way (" + r.photos + " photos, " + r.workers + " worker)", "ms, sum of medians", "one task is"],
    [
      ["one task, 3 outputs", r.oneTaskMs, ""],
      ["3 separate tasks", r.separateMs, `${r.vsSeparate.toFixed(2)}x (target <= 0.6x)`],
      ["largest output alone", r.largestMs, `${r.vsLargest.toFixed(2)}x (target <= 1.6x)`],
    ],
  );
}

/** Load runs as a table, stage columns in the order given. */
export function loadTable(label: string, runs: LoadResult[], stageNames: string[]): string {
  return table(
    [label, "jobs/s", "passes", "MP/s", "reply p50", "p99 ms", "failed", ...stageNames.map((s) => `${s} ms`)],
    runs.map((r) => [
      `c=${r.concurrency}`,
      r.jobsPerSecond,
      String(r.passes),
      r.megapixelsPerSecond,
      r.replyP50,
      r.replyP99,
      String(r.failed),
      ...stageNames.map((s) => r.stages[s] ?? NaN),
    ]),
  );
}

/** Writes the results as .bench/results-<timestamp>.json and returns the path. */
export async function writeResults(dir: string, results: unknown): Promise<string> {
  await Deno.mkdir(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const path = `${dir}/results-${stamp}.json`;
  await Deno.writeTextFile(path, JSON.stringify(results, null, 2) + "\n");
  return path;
}

/** nproc, CPU model and memory, from /proc. */
export async function machine(): Promise<{ cpus: number; cpuModel: string; memoryGiB: number; deno: string }> {
  const cpuinfo = await Deno.readTextFile("/proc/cpuinfo").catch(() => "");
  const meminfo = await Deno.readTextFile("/proc/meminfo").catch(() => "");
  return {
    cpus: navigator.hardwareConcurrency,
    cpuModel: /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? "unknown",
    memoryGiB: Number(/^MemTotal:\s+(\d+)/m.exec(meminfo)?.[1] ?? NaN) / 1024 / 1024,
    deno: Deno.version.deno,
  };
}
