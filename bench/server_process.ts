/**
 * `imgserve run` as a separate process on 127.0.0.1, as in production, and
 * its memory from /proc.
 *
 * @module
 */
import { serverEnvironment } from "../src/daemon.ts";

/** A running server process. */
export interface ServerProcess extends AsyncDisposable {
  base: string;
  pid: number;
  /** Resident set now and its high-water mark, in MiB. */
  memory(): Promise<{ rssMiB: number; peakMiB: number }>;
}

/** How to start the server. */
export interface ServerOptions {
  workers?: number;
  fileRoots: string[];
  /** Extra flags, e.g. where the journal lives. */
  flags?: string[];
  /** Another imgserve checkout to run, to compare commits; this one when absent. */
  checkout?: string;
}

const MAIN = new URL("../src/main.ts", import.meta.url).pathname;

/** Starts the server and resolves once /healthz answers. */
export async function startServerProcess(options: ServerOptions): Promise<ServerProcess> {
  const args = [
    "run",
    "-A",
    options.checkout ? `${options.checkout}/src/main.ts` : MAIN,
    "run",
    "--host",
    "127.0.0.1",
    "--port",
    "0",
    "--max-queue",
    "100000",
    "--allow-private-networks",
  ];
  for (const root of options.fileRoots) args.push("--file-root", root);
  if (options.workers !== undefined) args.push("--workers", String(options.workers));
  args.push(...options.flags ?? []);
  // In the environment that checkout's `imgserve start` gives it.
  const env = options.checkout
    ? (await import(`${options.checkout}/src/daemon.ts`)).serverEnvironment(Deno.env.toObject()) as Record<
      string,
      string
    >
    : serverEnvironment(Deno.env.toObject());
  const child = new Deno.Command(Deno.execPath(), { args, env, stdin: "null", stdout: "piped", stderr: "inherit" })
    .spawn();
  const listening = listeningPort(child.stdout);
  let base = "";
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch {
      // already gone
    }
    await child.status;
  };
  try {
    // The port the server bound (--port 0), from its log line: never a port closed and then reused.
    const port = await Promise.race([listening, child.status.then(() => 0)]);
    if (!port) throw new Error("the server exited during start-up");
    base = `http://127.0.0.1:${port}`;
    await waitHealthy(base, child.status);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    base,
    pid: child.pid,
    memory: () => readMemory(child.pid),
    [Symbol.asyncDispose]: stop,
  };
}

/** Resolves with the port of the server's `listening on HOST:PORT` line; its log is read to the end, unkept. */
function listeningPort(stdout: ReadableStream<Uint8Array>): Promise<number> {
  const { promise, resolve } = Promise.withResolvers<number>();
  const decoder = new TextDecoder();
  let head = "";
  let found = false;
  stdout.pipeTo(
    new WritableStream({
      write(chunk) {
        if (found || head.length > 65536) return;
        head += decoder.decode(chunk, { stream: true });
        const port = /listening on \S*:(\d+) /.exec(head)?.[1];
        if (port) {
          found = true;
          resolve(Number(port));
        }
      },
    }),
  ).catch(() => {});
  return promise;
}

async function waitHealthy(base: string, exited: Promise<Deno.CommandStatus>): Promise<void> {
  let gone = false;
  exited.then(() => gone = true);
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline && !gone) {
    try {
      const response = await fetch(`${base}/healthz`);
      await response.body?.cancel();
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(gone ? "the server exited during start-up" : "the server did not become healthy in 60 s");
}

/** VmRSS and VmHWM of a process, in MiB. */
export async function readMemory(pid: number): Promise<{ rssMiB: number; peakMiB: number }> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
  return { rssMiB: kib("VmRSS") / 1024, peakMiB: kib("VmHWM") / 1024 };
}
