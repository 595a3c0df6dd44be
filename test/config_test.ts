/** The flag table: each flag declared once, and everything derived from it. */
import { assert, assertEquals, assertThrows } from "./helpers/assert.ts";
import { type Environment, OPTIONS, parseConfig, resolveFlags, USAGE, UsageError } from "../src/config.ts";
import { envName, type Flag, FLAGS, SYSTEM_FONT_DIRS } from "../src/flags/mod.ts";

const table: readonly Flag[] = FLAGS;

function environment(vars: Record<string, string> = {}): Environment {
  return { vars, isRoot: false, cores: 3, home: "/home/someone" };
}

Deno.test("every flag has a usage line, a parser option and an IMGSERVE_ variable", () => {
  assertEquals(new Set(table.map((f) => f.name)).size, table.length, "no flag is declared twice");
  for (const flag of table) {
    const line = USAGE.split("\n").find((l) => new RegExp(`^  (-${flag.name}, )?--${flag.name}\\b`).test(l));
    assert(line, `--${flag.name} missing from the usage text`);
    assert(line.includes(flag.help.split("\n")[0].split("{default}")[0]), `--${flag.name}'s help is not on its line`);
    const option = (OPTIONS as Record<string, { type: string; multiple?: boolean }>)[flag.name];
    assert(option, `--${flag.name} missing from the parser options`);
    assertEquals(option.type, flag.kind === "bool" ? "boolean" : "string", flag.name);
    assertEquals(option.multiple ?? false, flag.kind === "list", flag.name);
    assert(/^IMGSERVE_[A-Z][A-Z0-9_]+$/.test(envName(flag.name)), envName(flag.name)); // digits: IMGSERVE_S3_ENDPOINT
    assertEquals(envName(flag.name).slice("IMGSERVE_".length).toLowerCase().replaceAll("_", "-"), flag.name);
  }
  assertEquals(Object.keys(OPTIONS).length, table.length + 1, "the table's flags and --help, nothing else");
  assert(USAGE.includes("  -h, --help                  this text\n"));
});

Deno.test("with no flags, every value is the table's default, and the usage text shows that same default", () => {
  const env = environment();
  const { values, given } = resolveFlags({}, env, "/home/someone/.imgserve");
  assertEquals(given.size, 0);
  for (const flag of table) {
    const value = (values as Record<string, unknown>)[flag.name];
    if (typeof flag.default === "number" || typeof flag.default === "string") {
      assertEquals(value, flag.default, flag.name);
      if (flag.help.includes("{default}")) {
        assert(USAGE.includes(`(default ${flag.default})`) || USAGE.includes(`(default and most ${flag.default})`));
      }
    } else if (flag.kind === "list") {
      assertEquals(value, [...(flag.default ?? [])], flag.name);
    }
  }
  const byName = (name: string) => table.find((f) => f.name === name)!.default;
  const config = parseConfig(["run"], env)!;
  assertEquals([config.host, config.port], [byName("host"), byName("port")]);
  assertEquals(config.limits.maxSourceBytes, byName("max-source-bytes"));
  assertEquals(config.limits.maxResultPixels, byName("max-result-pixels"));
  assertEquals(config.jobs.keepFinishedMs, byName("keep-finished-ms"));
  assertEquals(config.jobs.graceMs, byName("grace-ms"));
  assertEquals(config.connections.keepAliveTimeoutMs, byName("keep-alive-timeout-ms"));
  // Computed defaults: from the cores, the workers and the user's home.
  assertEquals([config.workers, config.limits.maxQueue], [3, 12]);
  assertEquals(config.connections.maxConnections, undefined);
  assertEquals(config.fontDirs, SYSTEM_FONT_DIRS);
  assertEquals(config.pidFile, "/home/someone/.imgserve/imgserve.pid");
  assertEquals([config.logToFile, config.jobs.kv], [false, "/home/someone/.imgserve/jobs.kv"]);
  const root = parseConfig(["run"], { ...env, isRoot: true })!;
  assertEquals([root.pidFile, root.logFile], ["/var/run/imgserve.pid", "/var/log/imgserve/imgserve.log"]);
  assertEquals(root.jobs.kv, "/var/lib/imgserve/jobs.kv");
});

Deno.test("flags win over variables; lists add up, split on ':' or ','; one-dash forms still work", () => {
  const env = environment({
    IMGSERVE_PORT: "9100",
    IMGSERVE_FONT_DIR: "/f1::/f2",
    IMGSERVE_SYSTEM_FONT_DIR: "",
    IMGSERVE_CORS_ORIGIN: "https://a.example,,https://b.example",
    IMGSERVE_FILE_ROOT: "/r1:/r2",
    IMGSERVE_ALLOW_PRIVATE_NETWORKS: "yes",
    IMGSERVE_TOKEN: "",
    IMGSERVE_LOG_FILE: "/tmp/x.log",
  });
  const config = parseConfig(
    ["run", "-port", "9200", "-host", "127.0.0.1", "--file-root", "/r0", "--kv", ":memory:"],
    env,
  )!;
  assertEquals([config.host, config.port], ["127.0.0.1", 9200]);
  assertEquals(config.fontDirs, ["/f1", "/f2"], "an empty system list means none");
  assertEquals(config.corsOrigins, ["https://a.example", "https://b.example"]);
  assertEquals(config.access.fileRoots, ["/r0", "/r1", "/r2"]);
  assertEquals([config.access.allowPrivateNetworks, config.access.token], [true, undefined]);
  assertEquals([config.logToFile, config.jobs.kv, config.jobs.dataDir], [true, ":memory:", undefined]);
  assertEquals(parseConfig(["run", "--system-font-dir", "/s"], env)!.fontDirs, ["/s", "/f1", "/f2"]);
  assertEquals(parseConfig(["run", "--help"], env), undefined);
});

Deno.test("bad values are refused with the flag or variable they came from", () => {
  const message = (args: string[], vars: Record<string, string> = {}) =>
    assertThrows(() => parseConfig(["run", ...args], environment(vars)), UsageError).message;
  assertEquals(message(["--workers", "0"]), '--workers must be a whole number >= 1, not "0"');
  assertEquals(message([], { IMGSERVE_LEASE_MS: "soon" }), 'IMGSERVE_LEASE_MS must be a whole number >= 1, not "soon"');
  assertEquals(message(["--max-connections", "0"]), '--max-connections must be a whole number >= 1, not "0"');
  assertEquals(message(["--port", "70000"]), "--port must be at most 65535, not 70000");
  assertEquals(message(["--max-queue", "-5"]), '--max-queue must be a whole number >= 1, not "-5"');
  assert(message(["--max-result-pixels", "100000001"]).startsWith("--max-result-pixels can be at most 100000000"));
  assert(message([], { IMGSERVE_HOST: "999.1.1.1" }).startsWith("IMGSERVE_HOST 999.1.1.1 is not an IPv4 address"));
  assert(message(["--callback-secret", "hunter2"]).startsWith('--callback-secret must be "whsec_"'));
  // A token no client could send in a bearer header would lock every client out.
  assert(message(["--token", "two words"]).startsWith("--token may hold only letters, digits"));
  assertEquals(parseConfig(["run", "--token", "a.B-9_~+/x=="], environment())!.access.token, "a.B-9_~+/x==");
  assertEquals(parseConfig(["run", "--grace-ms", "0"], environment())!.jobs.graceMs, 0);
});

Deno.test("each flag's value lands in the Config where its entry's `to` says, scaled where it says so", () => {
  const env = environment({ IMGSERVE_TOKEN_FILE: "/run/token", IMGSERVE_MAX_CONNECTIONS: "7" });
  const config = parseConfig(["run", "--worker-memory", "100"], env)!;
  const { values } = resolveFlags({ "worker-memory": "100" }, env, "/home/someone/.imgserve");
  for (const flag of table) {
    if (flag.to === undefined) continue;
    const placed = flag.to.split(".").reduce((at: unknown, key) => (at as Record<string, unknown>)[key], config);
    const value = (values as Record<string, unknown>)[flag.name];
    const scale = flag.kind === "int" ? flag.scale ?? 1 : 1;
    assertEquals(placed, typeof value === "number" ? value * scale : value, flag.name);
  }
  assertEquals([config.workerMemory, config.secretFiles.token, config.connections.maxConnections], [
    100 * 1024 * 1024,
    "/run/token",
    7,
  ]);
});
