/**
 * Starts a real imgserve on 127.0.0.1 for a test, and small clients for it.
 */
import { type Config, parseConfig, processEnvironment } from "../../src/config.ts";
import { type Server, type ServerOptions, startServer } from "../../src/server.ts";
import { dirname } from "../../src/paths.ts";

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
  post(body: unknown): Promise<{ status: number; json: Record<string, unknown>; headers: Headers }>;
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
    async post(body) {
      const response = await fetch(`${base}/`, {
        method: "POST",
        body: typeof body === "string" ? body : JSON.stringify(body),
        headers: { "content-type": "application/json", ...auth },
      });
      return { status: response.status, json: await response.json(), headers: response.headers };
    },
    async finished(id) {
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline) {
        const json = await (await fetch(`${base}/jobs/${id}`, { headers: auth })).json();
        if (json.state === "done" || json.state === "failed") return json;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error(`job ${id} did not finish`);
    },
    async [Symbol.asyncDispose]() {
      await server.shutdown();
    },
  };
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
