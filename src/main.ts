/**
 * The CLI entry: parse flags, dispatch start|stop|status|restart|run.
 *
 * @module
 */
import { parseConfig, processEnvironment, USAGE, UsageError } from "./config.ts";
import type { Config } from "./config.ts";
import { daemonStatus, fatalLine, openLog, startDaemon, stopDaemon } from "./daemon.ts";
import { ConfigError } from "./preflight.ts";
import { type Server, startServer } from "./server.ts";
import { RENDER_COMMAND } from "../protocol/render.ts";
import { formatLog, type Log } from "./log.ts";
import { readSettings, restartSettings, secretFlagWarning, settingsFile, takeSecretFlags } from "./settings.ts";

/**
 * Runs the server in the foreground until SIGTERM or SIGINT. Returns the
 * exit status: 1 when it could not start, after one line on stderr (and in
 * the log, where `imgserve start` looks for it).
 */
export async function runForeground(config: Config): Promise<number> {
  let logFile: Deno.FsFile | undefined;
  if (config.logToFile) {
    try {
      logFile = await openLog(config.logFile);
    } catch (err) {
      console.error(fatalLine(err));
      return 1;
    }
  }
  const encoder = new TextEncoder();
  const log: Log = (entry) => {
    const line = formatLog(config.logFormat, entry);
    if (logFile) logFile.writeSync(encoder.encode(`${line}\n`));
    else console.log(line);
  };
  globalThis.addEventListener("unhandledrejection", (event) => {
    event.preventDefault();
    log(`unhandled rejection: ${event.reason?.stack ?? event.reason}`);
  });
  let server: Server;
  try {
    server = await startServer(config, { log });
  } catch (err) {
    const line = fatalLine(err);
    if (logFile) log(line);
    console.error(line);
    logFile?.close();
    return 1;
  }
  const { promise: stopped, resolve } = Promise.withResolvers<string>();
  for (const signal of ["SIGTERM", "SIGINT"] as const) Deno.addSignalListener(signal, () => resolve(signal));
  const signal = await stopped;
  log(`${signal}: no new jobs; running ones get ${config.jobs.graceMs} ms, the rest stay in the journal`);
  await server.shutdown();
  log("stopped");
  logFile?.close();
  return 0;
}

async function main(args: string[]): Promise<number> {
  const environment = processEnvironment();
  let config: Config | undefined;
  try {
    config = parseConfig(args, environment);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    // The full usage only when there is no command; otherwise one line.
    console.error(args.length === 0 ? `imgserve: ${err.message}\n\n${USAGE}` : `imgserve: ${err.message}; see --help`);
    return 2;
  }
  if (!config) {
    console.log(USAGE);
    return 0;
  }
  const flags = args.toSpliced(args.indexOf(config.command), 1);
  const say = ({ code, message }: { code: number; message: string }) => {
    (code === 0 ? console.log : console.error)(message);
    return code;
  };
  const { found: secretFlags } = takeSecretFlags(flags);
  if (secretFlags.length && config.command !== "stop" && config.command !== "status") {
    console.error(secretFlagWarning(secretFlags, config.command !== "run"));
  }
  try {
    switch (config.command) {
      case "run":
        return await runForeground(config);
      case "start":
        return say(await startDaemon(config, flags, environment.vars));
      case "stop":
        return say(await stopDaemon(config));
      case "status":
        return say(await daemonStatus(config));
      case "restart": {
        const again = restartSettings(flags, environment.vars, await readSettings(config.pidFile));
        const next = again.reused
          ? parseConfig(["start", ...again.flags], { ...environment, vars: again.vars })!
          : config;
        if (again.reused) console.log(`imgserve: starting again with the settings in ${settingsFile(config.pidFile)}`);
        say(await stopDaemon(config));
        return say(await startDaemon(next, again.flags, again.vars));
      }
    }
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(fatalLine(err));
    return 1;
  }
}

if (import.meta.main) {
  // A compiled executable is its own SVG render process (see workers/render_process.ts).
  if (Deno.build.standalone && Deno.args[0] === RENDER_COMMAND) {
    await (await import("../workers/render_process.ts")).serveRenders();
  } else Deno.exit(await main(Deno.args));
}
