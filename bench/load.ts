/**
 * Drives a server over HTTP: N clients, each posting a job, polling it to
 * the end and posting the next, for a fixed time.
 *
 * @module
 */

/** One job to post, and the source megapixels it stands for. */
export interface JobSpec {
  body: Record<string, unknown>;
  megapixels: number;
}

/** What a load run measured. */
export interface LoadResult {
  concurrency: number;
  seconds: number;
  /** Jobs finished inside the measuring window. */
  completed: number;
  failed: number;
  /** Over whole passes of the job list when the window holds one (see {@linkcode wholePasses}), else over the window. */
  jobsPerSecond: number;
  megapixelsPerSecond: number;
  /** Whole passes the rate was taken over (0: taken over the window's count). */
  passes: number;
  /** Jobs finished in the window divided by its length, whatever their mix. */
  windowJobsPerSecond: number;
  /** POST / reply latency, ms. */
  replyP50: number;
  replyP99: number;
  /** Mean ms per job: the worker's stages plus download and queue+upload from the job's timestamps. */
  stages: Record<string, number>;
  firstError?: string;
}

/** Options of {@linkcode runLoad}. */
export interface LoadOptions {
  base: string;
  jobs: JobSpec[];
  concurrency: number;
  durationMs: number;
  /** Completions in this first part of the run are not counted (warm-up, pipeline fill). */
  warmupMs?: number;
  /** Called once a second with the elapsed ms, e.g. to sample memory. */
  onTick?: (elapsedMs: number) => void | Promise<void>;
  /** Counts every job that finishes, in or out of the window (see timeline.ts). */
  finished?: { count: number };
}

const POLL_MS = 20;

/**
 * Learns of finished jobs from their callbacks, as a real client would:
 * polling GET /jobs at load would cost the 2-core machine more CPU than the
 * server's own bookkeeping, and that skews the worker-scaling figure.
 */
export function callbackReceiver() {
  const waiting = new Map<string, (state: string) => void>();
  const early = new Map<string, string>();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const { id, state } = await req.json();
    const resolve = waiting.get(id);
    if (resolve) {
      waiting.delete(id);
      resolve(state);
    } else early.set(id, state);
    return new Response(null, { status: 204 });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}/done`,
    wait(id: string): Promise<string> {
      const state = early.get(id);
      if (state) {
        early.delete(id);
        return Promise.resolve(state);
      }
      return new Promise((resolve) => waiting.set(id, resolve));
    },
    close: () => server.shutdown(),
  };
}

/**
 * Runs the load and waits for every job it started to finish.
 *
 * @example
 * ```ts
 * const r = await runLoad({ base, jobs, concurrency: 4, durationMs: 10_000 });
 * ```
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const { base, jobs, concurrency, durationMs } = options;
  const warmupMs = options.warmupMs ?? Math.min(2000, durationMs / 5);
  const start = performance.now();
  const windowStart = start + warmupMs;
  const end = start + durationMs;
  const latencies: number[] = [];
  const stageSums: Record<string, number> = {};
  let completed = 0, failed = 0, megapixels = 0, next = 0, sampledJobs = 0, firstInWindow = -1;
  /** When each job (by its position in the posting order) finished. */
  const finishedAt: number[] = [];
  let firstError: string | undefined;
  const ticker = setInterval(() => options.onTick?.(performance.now() - start), 1000);
  const callbacks = callbackReceiver();

  const client = async (slot: number) => {
    while (performance.now() < end) {
      const index = next++;
      const spec = jobs[index % jobs.length];
      const body = {
        ...spec.body,
        dstURL: String(spec.body.dstURL).replace("{slot}", String(slot)),
        callbackURL: callbacks.url,
      };
      const posted = performance.now();
      if (posted >= windowStart && firstInWindow < 0) firstInWindow = index;
      const response = await fetch(`${base}/`, {
        method: "POST",
        body: JSON.stringify(body),
        headers: { "content-type": "application/json" },
      });
      const reply = await response.json();
      if (posted >= windowStart) latencies.push(performance.now() - posted);
      if (response.status !== 202) {
        finishedAt[index] = performance.now();
        failed++;
        firstError ??= `${response.status} ${JSON.stringify(reply)}`;
        continue;
      }
      const state = await callbacks.wait(reply.id);
      const done = performance.now();
      finishedAt[index] = done;
      if (options.finished) options.finished.count++;
      // Stage times come from GET /jobs for one job in four: a sample is
      // enough for averages, and every request the bench makes takes CPU
      // from the server it measures.
      const sampled = (completed + failed) % 4 === 0 || state !== "done";
      const record = sampled ? await (await fetch(`${base}/jobs/${reply.id}`)).json() : { state };
      if (record.state !== "done") {
        failed++;
        firstError ??= JSON.stringify(record.error ?? record);
        continue;
      }
      if (done < windowStart || done > end) continue;
      completed++;
      megapixels += spec.megapixels;
      if (!sampled) continue;
      sampledJobs++;
      for (const [stage, ms] of Object.entries(stagesOf(record))) stageSums[stage] = (stageSums[stage] ?? 0) + ms;
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, (_, slot) => client(slot)));
  } finally {
    clearInterval(ticker);
    await callbacks.close();
  }
  const seconds = (end - windowStart) / 1000;
  const stages: Record<string, number> = {};
  for (const [stage, sum] of Object.entries(stageSums)) stages[stage] = sum / Math.max(1, sampledJobs);
  const whole = wholePasses(finishedAt, firstInWindow, jobs.length, start, end);
  const passMegapixels = jobs.reduce((sum, job) => sum + job.megapixels, 0);
  return {
    concurrency,
    seconds,
    completed,
    failed,
    jobsPerSecond: whole ? whole.passes * jobs.length / whole.seconds : completed / seconds,
    megapixelsPerSecond: whole ? whole.passes * passMegapixels / whole.seconds : megapixels / seconds,
    passes: whole?.passes ?? 0,
    windowJobsPerSecond: completed / seconds,
    replyP50: percentile(latencies, 50),
    replyP99: percentile(latencies, 99),
    stages,
    firstError,
  };
}

/**
 * The time the server took for whole passes over the job list. The list
 * mixes 20 ms thumbnails with 600 ms ones, so a count of the jobs finished
 * in a fixed window swings by 15% with how many slow ones fell into it.
 * Instead: from the moment every job posted before the window had
 * finished to the moment every job of the next K whole passes had, the
 * server did K passes of work; the jobs in flight at those two moments
 * stand at the same places in the list, so they cancel out.
 */
export function wholePasses(
  finishedAt: number[],
  first: number,
  passLength: number,
  start: number,
  end: number,
): { passes: number; seconds: number } | undefined {
  if (first < 0) return undefined;
  // allDoneBy[i]: when jobs 0..i-1 had all finished.
  const allDoneBy = [start];
  for (let i = 0; i < finishedAt.length; i++) allDoneBy.push(Math.max(allDoneBy[i], finishedAt[i] ?? Infinity));
  let passes = 0;
  while (first + (passes + 1) * passLength < allDoneBy.length && allDoneBy[first + (passes + 1) * passLength] <= end) {
    passes++;
  }
  if (passes === 0) return undefined;
  return { passes, seconds: (allDoneBy[first + passes * passLength] - allDoneBy[first]) / 1000 };
}

/** Polls GET /jobs/:id until the job is done or failed. */
export async function finished(base: string, id: string): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 300_000;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, POLL_MS));
    const record = await (await fetch(`${base}/jobs/${id}`)).json();
    if (record.state === "done" || record.state === "failed") return record;
  }
  throw new Error(`job ${id} did not finish in 300 s`);
}

/**
 * Per-stage ms of one finished job: the worker's own `times`, "download"
 * (accepted until the whole source was read and the job started) and
 * "queue+upload" (the rest of started..finished outside the worker).
 */
export function stagesOf(record: Record<string, unknown>): Record<string, number> {
  const times = (record.times ?? {}) as Record<string, number>;
  const out: Record<string, number> = { ...times };
  const acceptedAt = instant(record.acceptedAt);
  const startedAt = instant(record.startedAt);
  const finishedAt = instant(record.finishedAt);
  if (acceptedAt !== undefined && startedAt !== undefined) out.download = startedAt - acceptedAt;
  if (startedAt !== undefined && finishedAt !== undefined) {
    const worker = Object.values(times).reduce((a, b) => a + b, 0);
    out["queue+upload"] = Math.max(0, finishedAt - startedAt - worker);
  }
  return out;
}

/** A job timestamp, epoch ms or an ISO string, as epoch ms. */
function instant(value: unknown): number | undefined {
  if (typeof value === "number") return value;
  if (typeof value === "string") return Date.parse(value);
  return undefined;
}

/** The p-th percentile (nearest rank) of the values, NaN when empty. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p / 100 * sorted.length) - 1))];
}
