/**
 * The server sampled once a second over a run: its RSS, its render
 * processes' RSS (children of the server, outside its own RSS), jobs
 * finished in that second, and workers busy, with the phase it was in.
 *
 * @module
 */
import { readMemory } from "./server_process.ts";

/** One sample. */
export interface Sample {
  /** Seconds since sampling started. */
  t: number;
  phase: string;
  rssMiB: number;
  /** The server's child processes (render processes), summed. */
  childrenMiB: number;
  /** Jobs finished since the previous sample. */
  jobs: number;
  busy: number;
  /** The pool's own account (GET /healthz `memory.bytes`), when the server gives one. */
  poolMiB?: number;
}

/** Samples a server every second until stopped. */
export class Timeline {
  readonly samples: Sample[] = [];
  /** Jobs finished: the load driver adds to it (see LoadOptions.finished). */
  readonly finished = { count: 0 };
  #phase = "start";
  #timer?: ReturnType<typeof setInterval>;
  #start = performance.now();
  #counted = 0;
  #pid: number;
  #base: string;

  constructor(pid: number, base: string) {
    this.#pid = pid;
    this.#base = base;
  }

  /** Takes one sample now and then one a second. */
  async start(): Promise<void> {
    this.#start = performance.now();
    await this.sample();
    this.#timer = setInterval(() => void this.sample(), 1000);
  }

  /** Names the phase the following samples belong to. */
  phase(name: string): void {
    this.#phase = name;
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** Takes one sample. */
  async sample(): Promise<Sample> {
    const t = (performance.now() - this.#start) / 1000;
    const phase = this.#phase;
    const [{ rssMiB }, childrenMiB, health] = await Promise.all([
      readMemory(this.#pid),
      childrenRss(this.#pid),
      fetch(`${this.#base}/healthz`).then((r) => r.json()).catch(() => ({})),
    ]);
    const jobs = this.finished.count - this.#counted;
    this.#counted = this.finished.count;
    const bytes = health.memory?.bytes;
    const sample = {
      t,
      phase,
      rssMiB,
      childrenMiB,
      jobs,
      busy: health.busy ?? NaN,
      poolMiB: typeof bytes === "number" ? bytes / 1024 / 1024 : undefined,
    };
    this.samples.push(sample);
    return sample;
  }
}

/** The summed RSS of a process's children, in MiB. */
export async function childrenRss(pid: number): Promise<number> {
  let sum = 0;
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = await Deno.readTextFile(`/proc/${entry.name}/stat`);
      const parent = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      // A child that has exited but is not yet reaped has no RSS line: it holds nothing.
      if (parent === pid) sum += (await readMemory(Number(entry.name))).rssMiB || 0;
    } catch {
      // gone in the meantime
    }
  }
  return sum;
}
