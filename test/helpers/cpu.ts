/**
 * What a test measures of a running imgserve process: its CPU use, its
 * render processes and worker threads, and an SVG that keeps a render
 * busy for minutes.
 *
 * @module
 */

/** 200 rects, each blurred over the whole 3000x3000 canvas (within the 10 MP result limit): minutes of work for resvg. */
export function blurredRects(count = 200, side = 3000): string {
  const rects = Array.from(
    { length: count },
    (_, i) =>
      `<rect x="${i}" y="${i}" width="3000" height="3000" fill="#${
        (i * 4111).toString(16).padStart(6, "0").slice(-6)
      }" filter="url(#b)"/>`,
  ).join("");
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${side}" height="${side}">` +
    `<filter id="b"><feGaussianBlur stdDeviation="500"/></filter>${rects}</svg>`;
}

const TICKS_PER_SECOND = 100;

/** CPU ticks (user + system) of a process, all its threads included, living or ended. */
function cpuTicks(pid: number): number {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0; // gone
  }
}

/** Live (not zombie) child processes of `pid`. */
export function children(pid: number): number[] {
  const found: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
      const [state, ppid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(ppid) === pid && state !== "Z") found.push(Number(entry.name));
    } catch {
      // ended while we looked
    }
  }
  return found;
}

/** Thread ids of the process's image workers (Deno names their threads worker-N). */
export function workerThreads(pid: number): number[] {
  return [...Deno.readDirSync(`/proc/${pid}/task`)]
    .filter((t) => {
      try {
        return /^worker-\d+$/.test(Deno.readTextFileSync(`/proc/${pid}/task/${t.name}/comm`).trim());
      } catch {
        return false;
      }
    })
    .map((t) => Number(t.name));
}

/** Cores in use by the process and its children over `ms`. */
export async function coresUsed(pid: number, ms: number): Promise<number> {
  const total = () => cpuTicks(pid) + children(pid).reduce((sum, c) => sum + cpuTicks(c), 0);
  const before = total();
  await new Promise((r) => setTimeout(r, ms));
  return (total() - before) / TICKS_PER_SECOND / (ms / 1000);
}
