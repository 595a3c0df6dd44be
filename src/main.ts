/**
 * The CLI entry: parse flags, dispatch start|stop|status|restart|run.
 *
 * @module
 */
import { parseConfig, processEnvironment, USAGE, UsageError } from "./config.ts";
import type { Config } from "./config.ts";
import { daemonStatus, startDaemon, stopDaemon } from "./daemon.ts";
import { startServer } from "./server.ts";
import { CmykProfileError } from "./cmyk_profile.ts";

/** Runs the server in the foreground until SIGTERM or SIGINT. */
export async function runForeground(config: Config): Promise<void> {
  let logFile: Deno.FsFile | undefined;
  if (config.logToFile) {
    await Deno.mkdir(config.logFile.slice(0, Math.max(1, config.logFile.lastIndexOf("/"))), { recursive: true });
    logFile = await Deno.open(config.logFile, { append: true, create: true });
  }
  const encoder = new TextEncoder();
  const log = (line: string) => {
    const text = `${new Date().toISOString()} ${line}\n`;
    if (logFile) logFile.writeSync(encoder.encode(text));
    else console.log(text.trimEnd());
  };
  globalThis.addEventListener("unhandledrejection", (event) => {
    event.preventDefault();
    log(`unhandled rejection: ${event.reason?.stack ?? event.reason}`);
  });
  const server = await startServer(config, { log });
  const { promise: stopped, resolve } = Promise.withResolvers<string>();
  for (const signal of ["SIGTERM", "SIGINT"] as const) Deno.addSignalListener(signal, () => resolve(signal));
  const signal = await stopped;
  log(`${signal}: no new jobs; running ones get ${config.jobs.graceMs} ms, the rest stay in the journal`);
  await server.shutdown();
  log("stopped");
  logFile?.close();
}

async function main(args: string[]): Promise<number> {
  let config: Config | undefined;
  try {
    config = parseConfig(args, processEnvironment());
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`imgserve: ${err.message}\n\n${USAGE}`);
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
  switch (config.command) {
    case "run":
      try {
        await runForeground(config);
      } catch (err) {
        if (!(err instanceof CmykProfileError)) throw err;
        console.error(`imgserve: ${err.message}`);
        return 1;
      }
      return 0;
    case "start":
      return say(await startDaemon(config, flags));
    case "stop":
      return say(await stopDaemon(config));
    case "status":
      return say(await daemonStatus(config));
    case "restart":
      say(await stopDaemon(config));
      return say(await startDaemon(config, flags));
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
