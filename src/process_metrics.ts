/**
 * The standard `process_*` metrics every Prometheus client library exports
 * (CPU seconds, start time, resident and virtual memory, heap, open and most
 * file descriptors), with the names and types prom-client gave them. Memory
 * and descriptors are read from Linux's /proc; elsewhere those families are
 * left out.
 *
 * @module
 */
import process from "node:process";
import { type Family, Sampled } from "./metrics_text.ts";

/** Most /proc/self/fd entries counted: more than any open-file limit this server raises to. */
const MAX_FDS_COUNTED = 1 << 20;

async function procStatus(): Promise<Map<string, number> | undefined> {
  try {
    const text = await Deno.readTextFile("/proc/self/status");
    const fields = new Map<string, number>();
    for (const match of text.matchAll(/^(Vm\w+):\s+(\d+) kB$/gm)) fields.set(match[1], Number(match[2]) * 1024);
    return fields;
  } catch {
    return undefined;
  }
}

async function openFds(): Promise<number | undefined> {
  try {
    let count = 0;
    for await (const _ of Deno.readDir("/proc/self/fd")) if (++count >= MAX_FDS_COUNTED) break;
    return count;
  } catch {
    return undefined;
  }
}

async function maxFds(): Promise<number | undefined> {
  try {
    const limits = await Deno.readTextFile("/proc/self/limits");
    const soft = /^Max open files\s+(\d+)/m.exec(limits)?.[1];
    return soft === undefined ? undefined : Number(soft);
  } catch {
    return undefined;
  }
}

/** The process families, each read at scrape time. */
export function processFamilies(): Family[] {
  const cpu = () => process.cpuUsage();
  const status = (field: string) => async () => (await procStatus())?.get(field);
  return [
    new Sampled(
      "process_cpu_user_seconds_total",
      "Total user CPU time spent in seconds.",
      () => cpu().user / 1e6,
      "counter",
    ),
    new Sampled(
      "process_cpu_system_seconds_total",
      "Total system CPU time spent in seconds.",
      () => cpu().system / 1e6,
      "counter",
    ),
    new Sampled("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", () => {
      const { user, system } = cpu();
      return (user + system) / 1e6;
    }, "counter"),
    new Sampled(
      "process_start_time_seconds",
      "Start time of the process since unix epoch in seconds.",
      () => Math.round(performance.timeOrigin / 1000),
    ),
    new Sampled("process_resident_memory_bytes", "Resident memory size in bytes.", () => Deno.memoryUsage().rss),
    new Sampled("process_virtual_memory_bytes", "Virtual memory size in bytes.", status("VmSize")),
    new Sampled("process_heap_bytes", "Process heap size in bytes.", status("VmData")),
    new Sampled("process_open_fds", "Number of open file descriptors.", openFds),
    new Sampled("process_max_fds", "Maximum number of open file descriptors.", maxFds),
  ];
}
