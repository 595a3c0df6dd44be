/**
 * What every step of a job may use: the server's parts (config, pool,
 * journal, transports, metrics, network guard) and its scheduler, passed
 * in explicitly, plus the transfer options every read and write is given.
 *
 * @module
 */
import type { Config } from "../config.ts";
import type { Metrics } from "../metrics.ts";
import type { Log } from "../log.ts";
import type { WorkerPool } from "../pool/pool.ts";
import {
  type AddressGuard,
  boundedDownload,
  type JobWrite,
  openGuard,
  type TransferOptions,
  type Transports,
  type WriteOptions,
} from "../transport/mod.ts";
import type { Journal } from "../journal/mod.ts";
import { contentTypeOf } from "./planner.ts";
import type { Plan } from "../../protocol/plan.ts";
import type { Scheduler } from "./scheduler.ts";

/** The server's parts a job runs with. */
export interface JobDeps {
  config: Config;
  pool: WorkerPool;
  journal: Journal;
  transports: Transports;
  metrics: Metrics;
  guard?: AddressGuard;
  /** Extra trusted roots (PEM) from --ca-file. */
  caCerts: string[];
  log?: Log;
}

/** What a step is given besides the job itself. */
export interface JobContext extends JobDeps {
  scheduler: Scheduler;
}

/** The part of a {@linkcode JobContext} that reads and writes go through. */
export type TransferContext = Pick<JobContext, "config" | "transports" | "caCerts" | "guard"> & {
  /** Only for its signal: transfers are cut short once a stop's grace period is over. */
  scheduler: Pick<Scheduler, "signal">;
};

/** The options of one transfer, cut short when the server's grace period ends. */
export function transferOptions(ctx: TransferContext, maxBytes?: number): TransferOptions {
  return {
    signal: ctx.scheduler.signal,
    timeoutMs: ctx.config.limits.transferTimeoutMs,
    caCerts: ctx.caCerts,
    guard: ctx.guard ?? openGuard,
    maxBytes,
  };
}

/** The options of one upload of a job's placeholder or result. */
export function writeOptions(ctx: TransferContext, plan: Plan, job: JobWrite, jobArgs: object): WriteOptions {
  return { ...transferOptions(ctx), contentType: contentTypeOf(plan.format), jobArgs, job };
}

/** A source download bounded by --transfer-timeout-ms between bytes and --source-timeout-ms in all. */
export function downloadSource(ctx: TransferContext, srcURL: URL): Promise<ReadableStream<Uint8Array>> {
  const { limits } = ctx.config;
  return boundedDownload(
    (signal) => ctx.transports.read(srcURL, { ...transferOptions(ctx, limits.maxSourceBytes), signal }),
    { idleMs: limits.transferTimeoutMs, totalMs: limits.sourceTimeoutMs, signal: ctx.scheduler.signal },
  );
}
