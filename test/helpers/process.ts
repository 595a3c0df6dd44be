/**
 * imgserve as a separate process, for tests that kill it: `imgserve run`
 * on a free port, with its output kept for failure messages.
 */
const MAIN = new URL("../../src/main.ts", import.meta.url).pathname;

/** A free TCP port on 127.0.0.1 (closed again at once). */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/**
 * Waits until a server `child` that has no "ready" signal of its own
 * accepts connections on `port`; fails at once if it exits first.
 */
export async function waitForPort(port: number, child: Deno.ChildProcess, name: string): Promise<void> {
  const deadline = Date.now() + 5000;
  let exited = false;
  child.status.then(() => exited = true);
  while (!exited && Date.now() < deadline) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  throw new Error(`${name} did not listen on ${port}`);
}

/** A running imgserve process. */
export interface ServerProcess extends AsyncDisposable {
  base: string;
  child: Deno.ChildProcess;
  /** Everything it printed so far. */
  output(): string;
  /** Sends a signal and resolves with the exit code. */
  stop(signal: Deno.Signal): Promise<number>;
}

/**
 * Starts `imgserve run` with `flags` and waits until /healthz answers.
 * `main` may name another entry taking the same arguments (a test fixture);
 * `ulimit` (e.g. "-n 256") runs it under that shell limit.
 */
export async function spawnServer(
  flags: string[],
  options: { ulimit?: string; main?: string } = {},
): Promise<ServerProcess> {
  const port = freePort();
  const args = ["run", "-A", options.main ?? MAIN, "run", "--host", "127.0.0.1", "--port", String(port), ...flags];
  const limited = ["-c", `ulimit ${options.ulimit}; exec "$0" "$@"`, Deno.execPath(), ...args];
  const child = new Deno.Command(options.ulimit ? "sh" : Deno.execPath(), {
    args: options.ulimit ? limited : args,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let text = "";
  const decoder = new TextDecoder();
  const drain = (stream: ReadableStream<Uint8Array>) =>
    stream.pipeTo(new WritableStream({ write: (chunk) => void (text += decoder.decode(chunk)) }));
  const drained = Promise.all([drain(child.stdout), drain(child.stderr)]);
  const base = `http://127.0.0.1:${port}`;
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  const stop = async (signal: Deno.Signal) => {
    if (!exited) child.kill(signal);
    const { code } = await status;
    await drained;
    return code;
  };
  const deadline = Date.now() + 30_000;
  while (true) {
    if (exited || Date.now() > deadline) {
      await stop("SIGKILL");
      throw new Error(`imgserve did not start:\n${text}`);
    }
    try {
      const response = await fetch(`${base}/healthz`);
      await response.body?.cancel();
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    base,
    child,
    output: () => text,
    stop,
    async [Symbol.asyncDispose]() {
      await stop("SIGKILL");
    },
  };
}

/** GET /jobs/:id on a server. */
export async function jobState(base: string, id: string): Promise<Record<string, unknown>> {
  return await (await fetch(`${base}/jobs/${id}`)).json();
}

/** Polls until the job is done or failed. */
export async function waitFinished(base: string, id: string, timeoutMs = 60_000): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const job = await jobState(base, id);
    if (job.state === "done" || job.state === "failed") return job;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`job ${id} did not finish`);
}
