/**
 * Entry for `deno serve -A src/serve.ts` and hosts that take a
 * default-exported fetch handler (the one default export in the project,
 * because that is the shape those hosts require). Configured by IMGSERVE_*
 * variables only. A misconfiguration ends it with one line, as for
 * `imgserve run`.
 *
 * @module
 */
import { parseConfig, processEnvironment, UsageError } from "./config.ts";
import { fatalLine } from "./daemon.ts";
import { formatLog } from "./log.ts";
import { type Server, startServer } from "./server.ts";

/** The one line a failed `deno serve` start is reported with. */
export function serveFailure(err: unknown): string {
  if (err instanceof Deno.errors.NotCapable || err instanceof Deno.errors.PermissionDenied) {
    const denied = (err as Error).message.split("\n")[0].replace(/^Requires /, "").replace(/, run again.*$/, "");
    return `imgserve: deno serve needs every permission (it was refused ${denied}); run it as ` +
      `deno serve -A src/serve.ts`;
  }
  if (err instanceof UsageError) return `imgserve: ${err.message} (deno serve reads only IMGSERVE_* variables)`;
  return fatalLine(err);
}

let server: Server;
try {
  const config = parseConfig(["run"], processEnvironment())!;
  server = await startServer(config, {
    noListen: true,
    log: (entry) => console.log(formatLog(config.logFormat, entry)),
  });
} catch (err) {
  console.error(serveFailure(err));
  Deno.exit(err instanceof UsageError ? 2 : 1);
}

// The workers and the journal scan keep the process alive after `deno serve`
// stops listening, so a signal must end them too.
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  Deno.addSignalListener(signal, async () => {
    await server.shutdown();
    Deno.exit(0);
  });
}

export default { fetch: (request: Request) => server.fetch(request) } satisfies Deno.ServeDefaultExport;
