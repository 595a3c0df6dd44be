/**
 * Starts a real imgserve on 127.0.0.1 for a test, and small clients for it.
 */
import { type Config, parseConfig, processEnvironment } from "../../src/config.ts";
import { type Server, type ServerOptions, startServer } from "../../src/server.ts";
import { dirname } from "../../shared/paths.ts";
import { type JobReply, postJob, waitFinished } from "./jobs.ts";
import type { Hono } from "hono";
import { type AppDeps, createApp } from "../../src/app.ts";
import { Metrics } from "../../src/metrics.ts";
import { assertEquals } from "./assert.ts";

/** Flags that open what the tests use: files under the temporary folder, servers on loopback. */
export const OPEN_FLAGS = ["--file-root", tempRoot(), "--allow-private-networks"];

function tempRoot(): string {
  const probe = Deno.makeTempDirSync();
  Deno.removeSync(probe);
  return dirname(probe);
}

/**
 * A config for tests: loopback, a free port, two workers, and OPEN_FLAGS
 * unless `open` is false; `flags` go on top.
 */
export function testConfig(flags: string[] = [], open = true): Config {
  const base = ["run", "--host", "127.0.0.1", "--port", "0", "--workers", "2", "--kv", ":memory:"];
  return parseConfig([...base, ...(open ? OPEN_FLAGS : []), ...flags], processEnvironment())!;
}

/** A running server plus helpers bound to it. */
export interface TestServer extends AsyncDisposable {
  server: Server;
  base: string;
  /** POSTs a job body (object or raw string); returns status, JSON and headers. */
  post(body: unknown): Promise<JobReply>;
  /** Polls GET /jobs/:id until the job is done or failed. */
  finished(id: string): Promise<Record<string, unknown>>;
}

/** Starts imgserve; dispose it with `await using`. */
export async function serve(
  flags: string[] = [],
  options: ServerOptions & { open?: boolean; token?: string } = {},
): Promise<TestServer> {
  const server = await startServer(testConfig(flags, options.open ?? true), options);
  const auth: Record<string, string> = options.token ? { authorization: `Bearer ${options.token}` } : {};
  const base = `http://127.0.0.1:${server.addr.port}`;
  return {
    server,
    base,
    post: (body) => postJob(base, body, auth),
    finished: (id) => waitFinished(base, id, 60_000, auth),
    async [Symbol.asyncDispose]() {
      await server.shutdown();
    },
  };
}

/** Asserts that the server answers `GET /healthz` with 200 within `withinMs`. */
export async function assertHealthy(base: string, withinMs = 2000): Promise<void> {
  const response = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(withinMs) });
  await response.body?.cancel();
  assertEquals(response.status, 200, `GET /healthz answered ${response.status}`);
}

/** A temporary folder removed on dispose. */
export async function tempDir(): Promise<{ path: string } & AsyncDisposable> {
  const path = await Deno.makeTempDir({ prefix: "imgserve-test-" });
  return { path, [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }) };
}

/** A real HTTP server on 127.0.0.1 with the given handler. */
export function httpServer(handler: Deno.ServeHandler): { base: string } & AsyncDisposable {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, handler);
  return {
    base: `http://127.0.0.1:${server.addr.port}`,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

/**
 * An HTTP image source that sends the first 64 bytes of each image at once
 * and the rest only after `release()`; requests after the release get the
 * whole image at once. It counts requests per path.
 */
export function heldSource(images: Record<string, Uint8Array<ArrayBuffer>>) {
  const hits = new Map<string, number>();
  const { promise: released, resolve: release } = Promise.withResolvers<void>();
  let isReleased = false;
  released.then(() => isReleased = true);
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    const path = new URL(req.url).pathname;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const image = images[path];
    if (!image) return new Response("not found", { status: 404 });
    if (isReleased) return new Response(image);
    return new Response(
      new ReadableStream({
        async start(controller) {
          controller.enqueue(image.subarray(0, 64));
          await released;
          controller.enqueue(image.subarray(64));
          controller.close();
        },
      }),
    );
  });
  return {
    base: `http://127.0.0.1:${server.addr.port}`,
    hits,
    release,
    [Symbol.asyncDispose]: async () => {
      release();
      await server.shutdown();
    },
  };
}

/**
 * imgserve's Hono app with no listener, workers or journal, for requests
 * that validation answers (call `app.request()`): a request that gets
 * past validation to the runner fails the test.
 */
export function validatingApp(flags: string[] = [], options: { token?: string } = {}): Hono {
  const config = testConfig(flags);
  const unreachable = (what: string) => () => {
    throw new Error(`a validation test reached the ${what}`);
  };
  return createApp({
    runner: { accepting: true, active: 0, accept: unreachable("runner") } as unknown as AppDeps["runner"],
    journal: { get: unreachable("journal"), healthy: unreachable("journal") } as unknown as AppDeps["journal"],
    pool: { healthy: true, size: 0, busy: 0, queued: 0 } as unknown as AppDeps["pool"],
    metrics: new Metrics({ queued: () => 0, busyWorkers: () => 0, workers: () => 0, activeJobs: () => 0 }),
    limits: config.limits,
    token: options.token,
  });
}
