/**
 * What a step is given in a test: a real journal in memory, the real
 * transports with file:// confined to a temporary folder, a real scheduler
 * and metrics, and a real worker pool where the step needs one.
 */
import type { JobContext } from "../../../src/job/context.ts";
import { KvJournal } from "../../../src/journal/kv.ts";
import { parseJobRequest } from "../../../src/job/request.ts";
import type { JobRequest } from "../../../src/job/request.ts";
import { Scheduler } from "../../../src/job/scheduler.ts";
import { ACCEPT, type Admission, type Attempt } from "../../../src/job/steps/mod.ts";
import { Metrics } from "../../../src/metrics.ts";
import { WorkerPool } from "../../../src/pool/pool.ts";
import { FileRoots } from "../../../src/security/files.ts";
import { builtinTransports } from "../../../src/transport/table.ts";
import { testConfig } from "../../helpers/server.ts";

/** A step's context over a fresh folder, closed with everything it opened. */
export interface StepWorld extends AsyncDisposable {
  ctx: JobContext;
  /** The folder file:// may use (its real path). */
  dir: string;
  /** Log lines the steps wrote. */
  logged: string[];
}

/** A context for steps; `pool` starts one real worker. */
export async function stepWorld(options: { pool?: boolean; flags?: string[] } = {}): Promise<StepWorld> {
  const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "imgserve-step-" }));
  const config = testConfig(["--file-root", dir, ...(options.flags ?? [])]);
  const journal = await KvJournal.open(":memory:", 86_400_000);
  const pool = options.pool
    ? await WorkerPool.start({ size: 1, fontDirs: [], taskTimeoutMs: config.limits.taskTimeoutMs })
    : undefined;
  const logged: string[] = [];
  const ctx: JobContext = {
    config,
    pool: pool ?? ({} as WorkerPool),
    journal,
    transports: builtinTransports(await FileRoots.resolve([dir])),
    metrics: new Metrics({ queued: () => 0, busyWorkers: () => 0, workers: () => 1, activeJobs: () => 0 }),
    caCerts: [],
    log: (entry) => void logged.push(typeof entry === "string" ? entry : entry.event),
    scheduler: new Scheduler(journal, config),
  };
  return {
    ctx,
    dir,
    logged,
    async [Symbol.asyncDispose]() {
      pool?.close();
      journal.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** A checked request of one output or several (`dstURL` a list). */
export function request(
  srcURL: string,
  dstURL: string | string[],
  args: Record<string, unknown> = { width: 30, height: 20 },
): JobRequest {
  const body = Array.isArray(dstURL)
    ? { operationType: "resize", srcURL, outputs: dstURL.map((dst) => ({ dstURL: dst, args })) }
    : { operationType: "resize", srcURL, dstURL, args };
  return parseJobRequest(body, 16384);
}

/** A job being accepted, before its first step. */
export function admission(request: JobRequest): Admission {
  return { id: crypto.randomUUID(), request, outputs: [] };
}

/** A stream of `bytes` in chunks of `size`, as a download gives them. */
export function chunked(bytes: Uint8Array, size = 1024): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.byteLength) return controller.close();
      controller.enqueue(bytes.slice(at, at + size));
      at += size;
    },
  });
}

/** A job taken through every accept step: placeholders in place, journaled. */
export async function accepted(ctx: JobContext, request: JobRequest): Promise<Admission> {
  const job = admission(request);
  for (const step of ACCEPT) await step(ctx, job);
  return job;
}

/** The first attempt at a job just accepted, its source handed over. */
export function firstAttempt(job: Admission): Attempt {
  const { record, outputs, source } = job;
  return {
    record: record!,
    outputs,
    fresh: true,
    journaledRunning: record!.state === "running",
    source,
    failures: new Map(),
  };
}
