/**
 * The background server: pid file, log file, start/stop/status. Exit codes
 * follow the LSB init-script conventions, so service managers understand
 * them: status answers 0 running, 1 dead with a stale pid file, 3 stopped.
 *
 * @module
 */
import type { Config } from "./config.ts";
import { ConfigError } from "./preflight.ts";
import { dirname } from "../shared/paths.ts";
import { describeSettings, imgserveVariables, readSettings, takeSecretFlags, writeSettings } from "./settings.ts";

/** What a daemon command prints and how it exits. */
export interface Outcome {
  code: number;
  message: string;
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
 * measurable cost in throughput. imgproxy ships the same setting. V8's
 * young generation is capped at 2 MiB per half in each isolate (the server
 * and every worker): pixels live outside the JS heap, and the cap took
 * 20-25 MiB off the peak at the same throughput (bench:compare, 3 pairs).
 * Both must be in place when the process starts; an operator's own values
 * (in `vars`, the variables the server is started with) win.
 */
export function serverEnvironment(vars: Record<string, string>): Record<string, string> {
  return {
    MALLOC_ARENA_MAX: vars.MALLOC_ARENA_MAX || "2",
    DENO_V8_FLAGS: vars.DENO_V8_FLAGS || V8_FLAGS,
  };
}

/** V8 flags for the server, as `deno compile --v8-flags` bakes them into the executable too (deno.json). */
const V8_FLAGS = "--max-semi-space-size=2";

/**
 * The one line a start-up failure is reported with, on stderr by `run` and
 * in the log, where `start` finds it again.
 */
export function fatalLine(err: unknown): string {
  if (err instanceof ConfigError) return `imgserve: ${err.message}`;
  const message = err instanceof Error ? err.message : String(err);
  return `imgserve: cannot start: ${message.split("\n")[0]}`;
}

/** Opens the log file for appending, creating its folder. */
export async function openLog(path: string): Promise<Deno.FsFile> {
  try {
    await Deno.mkdir(dirname(path), { recursive: true });
    return await Deno.open(path, { append: true, create: true });
  } catch (err) {
    throw new ConfigError(`--log-file ${path}: cannot be written (${(err as Error).message}); give a writable file`);
  }
}

/** What the log says past `offset` (what this start's server wrote), at most 1 MiB. */
async function logSince(path: string, offset: number): Promise<string> {
  try {
    using file = await Deno.open(path);
    await file.seek(offset, Deno.SeekMode.Start);
    const buffer = new Uint8Array(1024 * 1024);
    let filled = 0;
    while (filled < buffer.length) {
      const n = await file.read(buffer.subarray(filled));
      if (n === null) break;
      filled += n;
    }
    return new TextDecoder().decode(buffer.subarray(0, filled));
  } catch {
    return "";
  }
}

async function answersHealth(config: Config): Promise<boolean> {
  const host = config.host === "0.0.0.0" || config.host === "::" ? "127.0.0.1" : config.host;
  try {
    const url = `http://${host.includes(":") ? `[${host}]` : host}:${config.port}/healthz`;
    const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}

/**
 * Waits until the child has logged that it listens and /healthz answers,
 * both: a port held by another program may answer /healthz for it. Ends
 * as soon as the child exits, with the fatal line it logged.
 */
async function waitForStart(
  config: Config,
  child: Deno.ChildProcess,
  offset: number,
  timeoutMs: number,
): Promise<{ ok: true } | { ok: false; message: string }> {
  let exited = false;
  child.status.then(() => exited = true);
  const deadline = Date.now() + timeoutMs;
  while (!exited && Date.now() < deadline) {
    const listening = /^\S+ listening on /m.test(await logSince(config.logFile, offset));
    if (listening && await answersHealth(config) && !exited) return { ok: true };
    await new Promise((r) => setTimeout(r, 100));
  }
  const log = await logSince(config.logFile, offset);
  const fatal = [...log.matchAll(/^\S+ (imgserve: .*)$/gm)].pop()?.[1];
  if (fatal) return { ok: false, message: fatal };
  const tail = log.trimEnd().split("\n").slice(-15).join("\n") || "(nothing)";
  const why = exited ? "exited before it listened" : `did not answer /healthz within ${timeoutMs} ms`;
  return { ok: false, message: `imgserve ${why}; what it wrote to ${config.logFile}:\n${tail}` };
}

/**
 * Starts `imgserve run` in the background with the same flags, writes the
 * pid file and the settings beside it, and waits until the server listens
 * and answers /healthz. Secret flags reach the server as variables, out of
 * its command line; `vars` are the variables it is started with (ours, as
 * config.ts's processEnvironment read them, and any recorded IMGSERVE_* ones).
 */
export async function startDaemon(
  config: Config,
  flags: string[],
  vars: Record<string, string>,
  timeoutMs = 30_000,
): Promise<Outcome> {
  const pid = await readPid(config.pidFile);
  let note = "";
  if (pid !== undefined) {
    if (await isAlive(pid)) {
      return { code: 1, message: `imgserve is already running (pid ${pid}, pid file ${config.pidFile})` };
    }
    await Deno.remove(config.pidFile).catch(() => {});
    note = `removed a stale pid file (pid ${pid} was not running)\n`;
  }
  const pidError = (err: unknown) =>
    new ConfigError(
      `--pid-file ${config.pidFile}: cannot be written (${(err as Error).message}); give a writable file`,
    );
  await Deno.mkdir(dirname(config.pidFile), { recursive: true }).catch((err) => Promise.reject(pidError(err)));
  (await openLog(config.logFile)).close();
  const offset = (await Deno.stat(config.logFile)).size;
  const self = selfCommand();
  const secrets = takeSecretFlags(flags);
  const env = { ...vars, ...secrets.env };
  const child = new Deno.Command(self.command, {
    args: [...self.args, ...secrets.flags, "--log-file", config.logFile],
    env: { ...env, ...serverEnvironment(env) },
    stdin: "null",
    stdout: "null",
    stderr: "null",
    detached: true,
  }).spawn();
  child.unref();
  try {
    await Deno.writeTextFile(config.pidFile, `${child.pid}\n`);
    const startedAt = new Date().toISOString();
    await writeSettings(config.pidFile, {
      flags: secrets.flags,
      env: imgserveVariables(env),
      startedAt,
    });
  } catch (err) {
    child.kill("SIGKILL");
    throw pidError(err);
  }
  const started = await waitForStart(config, child, offset, timeoutMs);
  if (!started.ok) {
    if (await isAlive(child.pid)) Deno.kill(child.pid, "SIGKILL");
    await Deno.remove(config.pidFile).catch(() => {});
    return { code: 1, message: `${note}${started.message}` };
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
  const settings = await readSettings(config.pidFile);
  return { code: 0, message: `imgserve is running (pid ${pid})${settings ? `\n${describeSettings(settings)}` : ""}` };
}
