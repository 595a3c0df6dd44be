/**
 * imgserve as a separate process, for tests that kill it: `imgserve run`
 * on a port the OS picks, with its output kept for failure messages.
 */
import { pollUntil } from "./poll.ts";

// Kept here too for imports written before ports.ts and jobs.ts held them.
export { freePort, waitForPort } from "./ports.ts";
export { jobState, waitFinished } from "./jobs.ts";

const MAIN = new URL("../../src/main.ts", import.meta.url).pathname;

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
 * Starts `imgserve run --port 0` with `flags`, reads the port from its
 * `listening on HOST:PORT` line, and waits until /healthz answers.
 * `main` may name another entry taking the same arguments (a test fixture);
 * `ulimit` (e.g. "-n 256") runs it under that shell limit, and `ignore`
 * with those signals ignored (e.g. "XFSZ": a write past the file-size
 * limit then fails with EFBIG instead of killing the process); `env` adds
 * to its environment.
 */
export async function spawnServer(
  flags: string[],
  options: { ulimit?: string; main?: string; ignore?: string[]; env?: Record<string, string> } = {},
): Promise<ServerProcess> {
  const args = ["run", "-A", options.main ?? MAIN, "run", "--host", "127.0.0.1", "--port", "0", ...flags];
  const prelude = [
    ...(options.ulimit ? [`ulimit ${options.ulimit}`] : []),
    ...(options.ignore?.length ? [`trap '' ${options.ignore.join(" ")}`] : []),
  ];
  const shell = ["-c", `${prelude.join("; ")}; exec "$0" "$@"`, Deno.execPath(), ...args];
  const child = new Deno.Command(prelude.length ? "sh" : Deno.execPath(), {
    args: prelude.length ? shell : args,
    env: options.env,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let text = "";
  const decoder = new TextDecoder();
  const drain = (stream: ReadableStream<Uint8Array>) =>
    stream.pipeTo(new WritableStream({ write: (chunk) => void (text += decoder.decode(chunk)) }));
  const drained = Promise.all([drain(child.stdout), drain(child.stderr)]);
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
  let base = "";
  try {
    await pollUntil(async () => {
      if (exited) throw new Error("it exited");
      const port = /listening on \S*:(\d+) /.exec(text)?.[1];
      if (!port) return false;
      base = `http://127.0.0.1:${port}`;
      try {
        const response = await fetch(`${base}/healthz`);
        await response.body?.cancel();
        return response.ok;
      } catch {
        return false; // not answering yet
      }
    }, { timeoutMs: 30_000, intervalMs: 50, message: "a healthy imgserve" });
  } catch (err) {
    await stop("SIGKILL");
    throw new Error(`imgserve did not start (${(err as Error).message}):\n${text}`);
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

/** Runs `imgserve ARGS` from source to its end (killed after 60 s): its exit code and everything it printed. */
export async function imgserveCli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; out: string }> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    env,
    signal: AbortSignal.timeout(60_000),
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return { code, out: decoder.decode(stdout) + decoder.decode(stderr) };
}
