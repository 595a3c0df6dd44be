/**
 * Puts the pieces together: pool, journal, runner, app, and `Deno.serve`.
 * Used by `imgserve run`, `deno serve` and the tests.
 *
 * @module
 */
import { createApp } from "./app.ts";
import type { Config } from "./config.ts";
import { Journal } from "./job/journal.ts";
import { Metrics } from "./metrics.ts";
import { JobRunner } from "./job/runner.ts";
import { WorkerPool } from "./pool.ts";
import { loadCmykProfile } from "./cmyk_profile.ts";
import { closeHttpClients } from "./transport/http_client.ts";
import { builtinTransports } from "./transport/table.ts";
import { FileRoots } from "./security/files.ts";
import { networkGuard } from "./security/network.ts";

/** A running imgserve. */
export interface Server {
  /** Where it listens. */
  addr: Deno.NetAddr;
  pool: WorkerPool;
  runner: JobRunner;
  journal: Journal;
  /**
   * Stops taking jobs, lets running ones finish within `graceMs` (default
   * --grace-ms), leaves the rest in the journal, and closes everything.
   */
  shutdown(graceMs?: number): Promise<void>;
  /** The Hono app's fetch handler. */
  fetch: (request: Request) => Response | Promise<Response>;
}

/** Options for tests. */
export interface ServerOptions {
  workerURL?: URL;
  log?: (line: string) => void;
  /** Do not listen; only build the handler (for `deno serve`). */
  noListen?: boolean;
}

/** Reads the extra CA file named by `--ca-file`, if any. */
export async function loadCaCerts(config: Config): Promise<string[]> {
  return config.caFile ? [await Deno.readTextFile(config.caFile)] : [];
}

/**
 * Starts imgserve with `config`.
 *
 * @example
 * ```ts
 * const server = await startServer(config);
 * await server.shutdown();
 * ```
 */
export async function startServer(config: Config, options: ServerOptions = {}): Promise<Server> {
  const caCerts = await loadCaCerts(config);
  const cmykProfile = await loadCmykProfile(config.cmykProfile);
  const transports = builtinTransports(await FileRoots.resolve(config.access.fileRoots));
  const guard = networkGuard(config.access);
  const pool = await WorkerPool.start({
    size: config.workers,
    fontDirs: config.fontDirs,
    cmykProfile: cmykProfile?.bytes,
    taskTimeoutMs: config.limits.taskTimeoutMs,
    workerURL: options.workerURL,
  });
  const journal = await Journal.open(config.jobs.kv, config.jobs.keepFinishedMs);
  const metrics: Metrics = new Metrics({
    queued: () => pool.queued,
    busyWorkers: () => pool.busy,
    workers: () => pool.size,
    activeJobs: (): number => runner.active,
  });
  const runner: JobRunner = new JobRunner({
    config,
    pool,
    journal,
    transports,
    guard,
    caCerts,
    metrics,
    log: options.log,
  });
  const app = createApp({
    runner,
    journal,
    pool,
    metrics,
    limits: config.limits,
    token: config.access.token,
    log: options.log,
  });
  const fetch = app.fetch as (request: Request) => Response | Promise<Response>;
  let http: Deno.HttpServer | undefined;
  let addr: Deno.NetAddr = { transport: "tcp", hostname: config.host, port: config.port };
  if (!options.noListen) {
    const { promise: listening, resolve } = Promise.withResolvers<Deno.NetAddr>();
    http = Deno.serve({
      hostname: config.host,
      port: config.port,
      onListen: (at) => resolve(at as Deno.NetAddr),
    }, fetch);
    addr = await listening;
    options.log?.(`listening on ${addr.hostname}:${addr.port} with ${pool.size} workers, journal ${config.jobs.kv}`);
  }
  runner.start();
  return {
    addr,
    pool,
    runner,
    journal,
    fetch,
    async shutdown(graceMs = config.jobs.graceMs) {
      await runner.stop(graceMs);
      await http?.shutdown();
      pool.close();
      await runner.idle();
      journal.close();
      await closeHttpClients();
    },
  };
}
