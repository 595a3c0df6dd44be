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

/** How `imgserve ARGS` ended: its exit code, what it printed, and how long it took. */
export interface CliExit {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout then stderr. */
  out: string;
  ms: number;
}

/**
 * Runs `imgserve ARGS` from source to its end. `prefix` goes before deno (a
 * wrapper such as `setpriv`); a process still there after `limitMs` is
 * killed, and fails the test as hung.
 */
export async function imgserveCli(
  args: string[],
  env: Record<string, string> = {},
  options: { prefix?: string[]; limitMs?: number } = {},
): Promise<CliExit> {
  const { prefix = [], limitMs = 60_000 } = options;
  const command = [...prefix, Deno.execPath(), "run", "-A", MAIN, ...args];
  const started = Date.now();
  const { code, stdout, stderr } = await new Deno.Command(command[0], {
    args: command.slice(1),
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(limitMs),
  }).output();
  const decoder = new TextDecoder();
  const [out, err] = [decoder.decode(stdout), decoder.decode(stderr)];
  const exit = { code, stdout: out, stderr: err, out: out + err, ms: Date.now() - started };
  if (exit.ms >= limitMs) throw new Error(`imgserve ${args.join(" ")} hung:\n${exit.out}`);
  return exit;
}
