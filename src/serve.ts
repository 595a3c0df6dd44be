/**
 * Entry for `deno serve src/serve.ts` and hosts that take a default-exported
 * fetch handler (the one default export in the project, because that is
 * the shape those hosts require). Configured by IMGSERVE_* variables.
 *
 * @module
 */
import { parseConfig, processEnvironment } from "./config.ts";
import { startServer } from "./server.ts";
import { formatLog } from "./log.ts";

const config = parseConfig(["run"], processEnvironment())!;
const server = await startServer(config, {
  noListen: true,
  log: (entry) => console.log(formatLog(config.logFormat, entry)),
});

// The workers and the journal scan keep the process alive after `deno serve`
// stops listening, so a signal must end them too.
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  Deno.addSignalListener(signal, async () => {
    await server.shutdown();
    Deno.exit(0);
  });
}

export default { fetch: server.fetch } satisfies Deno.ServeDefaultExport;
