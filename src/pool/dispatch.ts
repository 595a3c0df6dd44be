/**
 * Which queued job goes to which worker, as a pure function of the
 * workers' state and the queue, so its rules can be read and tested apart
 * from any worker.
 *
 * A busy worker is sent its next job before it finishes the current one,
 * so it never waits for the server's thread to hand it more (that round
 * trip cost about 2% of each worker's time under load). Only jobs that no
 * idle worker could take are queued up that way.
 *
 * @module
 */

/** Jobs a worker holds at once: the one it runs and the next. */
export const DEPTH = 2;

/**
 * A job whose plan needs more WebAssembly memory than this is heavy. The
 * memory a job grows stays with its worker (WebAssembly memories never
 * shrink), so heavy jobs go to the worker that has already run the
 * heaviest, and the others stay small: in the bench, a 17.9 MP progressive
 * JPEG had left 85 MiB in each of two workers, and now it is in one. The
 * line is above the PNGs of everyday work (a 2.8 MP PNG's thumbnail or
 * 600x400 PNG needs 30-33 MiB; PNG jobs are common, so they stay spread
 * over the workers) and below an 8.3 MP progressive JPEG's thumbnail (46
 * MiB: at 48 it went to either worker and left 40 MiB of libjpeg-turbo
 * memory in the second, 35 MiB of the bench corpus's peak RSS). Thumbnails
 * of baseline photos need under 10 MiB.
 */
export const HEAVY_BYTES = 40 * 1024 * 1024;

/**
 * How long a heavy job waits for that worker before an idle one takes it
 * (and grows, after which it takes jobs as heavy without waiting): a stream
 * of heavy jobs still keeps every worker busy.
 */
export const HEAVY_WAIT_MS = 2000;

/** What the dispatch needs to know of a worker. */
export interface SlotState {
  /** Started and its codecs loaded. */
  ready: boolean;
  /** Takes no more jobs. */
  retiring: boolean;
  /** Jobs sent to it and not answered. */
  held: number;
  /** The largest `need` of the jobs it was given. */
  heaviest: number;
}

/** What the dispatch needs to know of a queued job. */
export interface QueuedJob {
  /** Only for an idle worker, never sent ahead. */
  alone: boolean;
  /** WebAssembly memory its plan needs. */
  need: number;
  /** When it was queued (performance.now()). */
  queuedAt: number;
}

/** The jobs to send, in order, and when to look again if a heavy job is left waiting. */
export interface Dispatch<T> {
  sends: { slot: number; job: T }[];
  /** When the first job left waiting for the heavy worker will have waited HEAVY_WAIT_MS (performance.now()). */
  wakeAt?: number;
}

/**
 * Idle workers first, then one job ahead to each busy one, in the order
 * jobs came. A heavy job goes to a worker that has run one as heavy, or
 * to the one that has run the heaviest; an idle worker takes it anyway
 * once it has waited HEAVY_WAIT_MS. Neither argument is changed.
 *
 * @example
 * ```ts
 * const { sends } = dispatch([{ ready: true, retiring: false, held: 0, heaviest: 0 }], queue, performance.now());
 * for (const { slot, job } of sends) send(slots[slot], job);
 * ```
 */
export function dispatch<T extends QueuedJob>(
  slots: readonly SlotState[],
  queue: readonly T[],
  now: number,
): Dispatch<T> {
  const state = slots.map((slot) => ({ ...slot }));
  const waiting = [...queue];
  const result: Dispatch<T> = { sends: [] };
  for (let held = 0; held < DEPTH; held++) {
    for (const [i, slot] of state.entries()) {
      if (waiting.length === 0) return result;
      if (!slot.ready || slot.retiring || slot.held !== held) continue;
      const heavy = heavySlot(state);
      const fits = (job: T) =>
        (held === 0 || !job.alone) && (job.need <= Math.max(HEAVY_BYTES, slot.heaviest) || slot === heavy);
      let index = waiting.findIndex(fits);
      if (index < 0 && held === 0) {
        index = waiting.findIndex((job) => now - job.queuedAt >= HEAVY_WAIT_MS);
        if (index < 0) result.wakeAt ??= waiting[0].queuedAt + HEAVY_WAIT_MS;
      }
      if (index < 0) continue;
      const [job] = waiting.splice(index, 1);
      slot.held++;
      slot.heaviest = Math.max(slot.heaviest, job.need);
      result.sends.push({ slot: i, job });
    }
  }
  return result;
}

/** The worker heavy jobs go to: the one that has run the heaviest job, the first on a tie. */
function heavySlot<S extends SlotState>(slots: S[]): S | undefined {
  let heaviest: S | undefined;
  for (const slot of slots) {
    if (!slot.ready || slot.retiring) continue;
    if (!heaviest || slot.heaviest > heaviest.heaviest) heaviest = slot;
  }
  return heaviest;
}
