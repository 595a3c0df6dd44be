/**
 * The background server: pid file, log file, start/stop/status. Exit codes
 * follow the LSB init-script conventions, so service managers understand
 * them: status answers 0 running, 1 dead with a stale pid file, 3 stopped.
 *
 * @module
 */
import type { Config } from "./config.ts";

/** What a daemon command prints and how it exits. */
export interface Outcome {
  code: number;
  message: string;
}

function dirname(path: string): string {
  return path.slice(0, Math.max(1, path.lastIndexOf("/")));
}

/** The pid in the pid file, or undefined when there is none. */
export async function readPid(pidFile: string): Promise<number | undefined> {
  try {
    const pid = Number((await Deno.readTextFile(pidFile)).trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a process with this pid exists (and is not a zombie). */
export async function isAlive(pid: number): Promise<boolean> {
  try {
    const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
    return !/^\d+ \(.*\) Z /.test(stat);
  } catch {
    return false;
  }
}

/** The command line that runs this same program as `imgserve run`. */
export function selfCommand(): { command: string; args: string[] } {
  if (Deno.build.standalone) return { command: Deno.execPath(), args: ["run"] };
  const config = new URL("../deno.json", import.meta.url);
  return {
    command: Deno.execPath(),
    args: [
      "run",
      "-A",
      "--unstable-kv",
      "--config",
      config.pathname,
      new URL("./main.ts", import.meta.url).pathname,
      "run",
    ],
  };
}

/**
 * The environment the background server gets on top of ours. glibc gives
 * busy threads malloc arenas of their own and keeps the image buffers
 * freed in them, so under load the server's memory climbed for minutes
 * before it levelled off (581 -> 705 MiB over 180 s, measured); with two
 * arenas it was flat after the first minute (about 620 MiB) at no
 * measurable cost in throughput. imgproxy ships the same setting. It must
 * be in place when the process starts; an operator's own value wins.
 */
export function serverEnvironment(): Record<string, string> {
  return { MALLOC_ARENA_MAX: Deno.env.get("MALLOC_ARENA_MAX") || "2" };
}

async function waitForHealth(config: Config, pid: number, timeoutMs: number): Promise<boolean> {
  const host = config.host === "0.0.0.0" || config.host === "::" ? "127.0.0.1" : config.host;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${config.port}/healthz`;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!(await isAlive(pid))) return false;
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await response.body?.cancel();
      if (response.ok) return true;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

async function tail(path: string, lines: number): Promise<string> {
  try {
    return (await Deno.readTextFile(path)).trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

/**
 * Starts `imgserve run` in the background with the same flags, writes the
 * pid file, and waits until the server answers /healthz.
 */
export async function startDaemon(config: Config, flags: string[]): Promise<Outcome> {
  const pid = await readPid(config.pidFile);
  let note = "";
  if (pid !== undefined) {
    if (await isAlive(pid)) {
      return { code: 1, message: `imgserve is already running (pid ${pid}, pid file ${config.pidFile})` };
    }
    await Deno.remove(config.pidFile).catch(() => {});
    note = `removed a stale pid file (pid ${pid} was not running)\n`;
  }
  await Deno.mkdir(dirname(config.pidFile), { recursive: true });
  await Deno.mkdir(dirname(config.logFile), { recursive: true });
  const self = selfCommand();
  const child = new Deno.Command(self.command, {
    args: [...self.args, ...flags, "--log-file", config.logFile],
    env: serverEnvironment(),
    stdin: "null",
    stdout: "null",
    stderr: "null",
    detached: true,
  }).spawn();
  child.unref();
  await Deno.writeTextFile(config.pidFile, `${child.pid}\n`);
  if (!(await waitForHealth(config, child.pid, 30_000))) {
    if (await isAlive(child.pid)) Deno.kill(child.pid, "SIGKILL");
    await Deno.remove(config.pidFile).catch(() => {});
    return {
      code: 1,
      message: `${note}imgserve did not start; the end of ${config.logFile}:\n${await tail(config.logFile, 15)}`,
    };
  }
  return {
    code: 0,
    message: `${note}imgserve started (pid ${child.pid}) on ${config.host}:${config.port}; log ${config.logFile}`,
  };
}

/**
 * Stops the background server with SIGTERM (it finishes running jobs within
 * --grace-ms), then SIGKILL if it is still there 10 s after that.
 */
export async function stopDaemon(config: Config, graceMs = config.jobs.graceMs + 10_000): Promise<Outcome> {
  const pid = await readPid(config.pidFile);
  if (pid === undefined) return { code: 0, message: `imgserve is not running (no pid file at ${config.pidFile})` };
  if (!(await isAlive(pid))) {
    await Deno.remove(config.pidFile).catch(() => {});
    return { code: 0, message: `imgserve is not running (pid ${pid} is gone); removed the stale pid file` };
  }
  Deno.kill(pid, "SIGTERM");
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && (await isAlive(pid))) await new Promise((r) => setTimeout(r, 100));
  let how = "stopped";
  if (await isAlive(pid)) {
    Deno.kill(pid, "SIGKILL");
    how = `killed after ${graceMs} ms`;
  }
  await Deno.remove(config.pidFile).catch(() => {});
  return { code: 0, message: `imgserve ${how} (pid ${pid})` };
}

/** Says whether the background server runs. */
export async function daemonStatus(config: Config): Promise<Outcome> {
  const pid = await readPid(config.pidFile);
  if (pid === undefined) return { code: 3, message: "imgserve is not running" };
  if (!(await isAlive(pid))) {
    return { code: 1, message: `imgserve is not running, but its pid file ${config.pidFile} names pid ${pid} (stale)` };
  }
  return { code: 0, message: `imgserve is running (pid ${pid})` };
}
