/**
 * Puts the pieces together: pool, journal, runner, app, and the HTTP listener.
 * Used by `imgserve run`, `deno serve` and the tests.
 *
 * @module
 */
import { createApp } from "./app.ts";
import { EventHub, observeJournal } from "./events.ts";
import type { Log } from "./log.ts";
import type { Config } from "./config.ts";
import { isPostgres, type Journal } from "./journal/mod.ts";
import { Metrics } from "./metrics.ts";
import { JobRunner } from "./job/runner.ts";
import { WorkerPool } from "./pool/pool.ts";
import { loadCmykProfile } from "./cmyk_profile.ts";
import { closeHttpClients } from "./transport/http_client.ts";
import { builtinTransports } from "./transport/table.ts";
import { networkGuard } from "./security/network.ts";
import {
  checkFileRoots,
  checkFontDirs,
  checkListen,
  listenError,
  loadCaFile,
  loadSecretFiles,
  openConfiguredJournal,
} from "./preflight.ts";
import { defaultMaxConnections, type HttpListener, listenHttp, openFileLimit } from "./http/listener.ts";

/** A running imgserve. */
export interface Server {
  /** Where it listens. */
  addr: Deno.NetAddr;
  pool: WorkerPool;
  runner: JobRunner;
  journal: Journal;
  /** The job and pool events `GET /events` streams. */
  events: EventHub;
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
  log?: Log;
  /** Do not listen; only build the handler (for `deno serve`). */
  noListen?: boolean;
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
export async function startServer(given: Config, options: ServerOptions = {}): Promise<Server> {
  // Cheap checks first, so a misconfiguration is reported before workers start.
  const config = await loadSecretFiles(given);
  const caCerts = await loadCaFile(config);
  const cmykProfile = await loadCmykProfile(config.cmykProfile);
  const transports = builtinTransports(await checkFileRoots(config), { ...config.s3, caCerts });
  await checkFontDirs(config);
  const guard = networkGuard(config.access);
  if (!options.noListen) checkListen(config);
  const journal = await openConfiguredJournal(config, options.log);
  let pool: WorkerPool | undefined;
  try {
    pool = await WorkerPool.start({
      size: config.workers,
      fontDirs: config.fontDirs,
      cmykProfile: cmykProfile?.bytes,
      taskTimeoutMs: config.limits.taskTimeoutMs,
      workerURL: options.workerURL,
      workerMemory: config.workerMemory,
    });
    return assemble(config, options, { caCerts, transports, guard, journal, pool });
  } catch (err) {
    // Nothing may keep a failed start alive: the caller exits with one line.
    pool?.close();
    await journal.close();
    await closeHttpClients();
    throw err;
  }
}

interface Parts {
  caCerts: string[];
  transports: ReturnType<typeof builtinTransports>;
  guard: ReturnType<typeof networkGuard>;
  journal: Journal;
  pool: WorkerPool;
}

/** Wires the checked parts into the app and listens. */
function assemble(
  config: Config,
  options: ServerOptions,
  { caCerts, transports, guard, journal: ownJournal, pool }: Parts,
): Server {
  const events = new EventHub({
    health: () => ({
      workers: pool.size,
      busy: pool.busy,
      queued: pool.queued,
      jobs: runner.active,
      memory: pool.memoryStatus,
    }),
  });
  const journal = observeJournal(ownJournal, events);
  const metrics: Metrics = new Metrics({
    queued: () => pool.queued,
    busyWorkers: () => pool.busy,
    workers: () => pool.size,
    activeJobs: (): number => runner.active,
    workerMemory: () => pool.memory,
    recycledWorkers: () => pool.recycled,
    cluster: isPostgres(config.jobs.kv)
      ? {
        queueDepth: () => journal.queueDepth().catch(() => undefined),
        claims: () => runner.claims.claims,
        takeovers: () => runner.claims.takeovers,
      }
      : undefined,
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
    idempotencyMs: config.jobs.idempotencyMs,
    events,
    token: config.access.token,
    corsOrigins: config.corsOrigins,
    connections: () => http?.connections ?? 0,
    log: options.log,
  });
  const fetch = app.fetch as (request: Request) => Response | Promise<Response>;
  let http: HttpListener | undefined;
  let addr: Deno.NetAddr = { transport: "tcp", hostname: config.host, port: config.port };
  if (!options.noListen) {
    const fileLimit = openFileLimit();
    const maxConnections = config.connections.maxConnections ?? defaultMaxConnections(fileLimit);
    try {
      http = listenHttp({
        ...config.connections,
        hostname: config.host,
        port: config.port,
        maxConnections,
        handler: fetch,
        log: options.log,
      });
    } catch (err) {
      throw listenError(config, err);
    }
    addr = http.addr;
    options.log?.(
      `listening on ${addr.hostname}:${addr.port} with ${pool.size} workers, journal ${journal.location}, ` +
        `at most ${maxConnections} connections (${fileLimit} descriptors)`,
    );
  }
  runner.start();
  return {
    addr,
    pool,
    runner,
    journal,
    events,
    fetch,
    async shutdown(graceMs = config.jobs.graceMs) {
      await runner.stop(graceMs);
      events.close();
      await http?.shutdown();
      pool.close();
      await runner.idle();
      await journal.close();
      await closeHttpClients();
    },
  };
}
