/**
 * Every flag and IMGSERVE_* variable, parsed once into one typed
 * {@linkcode Config}. No other module reads Deno.args or Deno.env.
 *
 * @module
 */
import { parseArgs } from "node:util";

/** The CLI commands. */
export type Command = "start" | "stop" | "status" | "restart" | "run";

/** Limits that protect the server. */
export interface Limits {
  /** Largest source download, bytes. */
  maxSourceBytes: number;
  /** Largest source, pixels, checked from the header. */
  maxSourcePixels: number;
  /** Largest result side, pixels. */
  maxSide: number;
  /** Timeout for connecting, replies and idle data, ms. */
  transferTimeoutMs: number;
  /** Longest time one job may take in a worker, ms. */
  taskTimeoutMs: number;
  /** Accepted jobs not yet finished, past which requests get 503. */
  maxQueue: number;
  /** Largest request body, bytes. */
  maxBodyBytes: number;
  /** Largest SVG source, bytes. */
  maxSvgBytes: number;
  /** Longest an SVG may take to render, ms. */
  renderTimeoutMs: number;
}

/** Who may use the server and what it may touch. */
export interface Access {
  /** Bearer token every request but GET /healthz must carry. */
  token?: string;
  /** Folders file:// URLs may use; none disables file://. */
  fileRoots: string[];
  allowPrivateNetworks: boolean;
  /** Host patterns sources and destinations are restricted to; empty means any. */
  allowHosts: string[];
}

/** The whole configuration. */
export interface Config {
  command: Command;
  host: string;
  port: number;
  workers: number;
  fontDirs: string[];
  /** PEM text of `--ca-file`, trusted besides the system roots. */
  caFile?: string;
  /** `--cmyk-profile`: a file, "none", or undefined for the first system profile found. */
  cmykProfile?: string;
  pidFile: string;
  logFile: string;
  /** Whether `--log-file` was given: `run` then logs there instead of stdout. */
  logToFile: boolean;
  limits: Limits;
  access: Access;
  jobs: JobPolicy;
}

/** Where jobs are kept and how they are retried. */
export interface JobPolicy {
  /** Deno KV location: a file path, a URL, or ":memory:". */
  kv: string;
  /** How long a claim on a job lasts without being renewed, ms. */
  leaseMs: number;
  /** Attempts before a job with transient failures is failed. */
  maxAttempts: number;
  /** First retry delay, doubled each attempt, ms. */
  retryBaseMs: number;
  /** How long finished jobs stay readable, ms. */
  keepFinishedMs: number;
  /** How long SIGTERM waits for running jobs, ms. */
  graceMs: number;
}

/** Flag help, shown by `--help`. */
export const USAGE = `imgserve: an image job server

Usage: imgserve <start|stop|status|restart|run> [flags]

Commands:
  start     start the server in the background (pid and log files)
  stop      stop the background server
  status    say whether the background server runs
  restart   stop, then start
  run       run the server in the foreground (containers, systemd, tests)

Flags (each also read from IMGSERVE_<NAME>, e.g. IMGSERVE_PORT=8602):
  -host, --host IP            address to listen on (default 0.0.0.0)
  -port, --port N             port to listen on (default 8602)
  --workers N                 image workers (default: number of CPU cores)
  --font-dir DIR              extra folder of fonts for SVG text (repeatable)
  --ca-file FILE              extra trusted CA certificates (PEM) for HTTPS and FTPS
  --cmyk-profile FILE         CMYK ICC profile for CMYK JPEGs that carry none, or "none"
                              (default: Ghostscript's default_cmyk.icc if installed)
  --pid-file FILE             pid file (default /var/run/imgserve.pid as root,
                              else ~/.imgserve/imgserve.pid)
  --log-file FILE             log file (default /var/log/imgserve/imgserve.log as
                              root, else ~/.imgserve/imgserve.log)
  --max-source-bytes N        largest source download (default 52428800)
  --max-source-pixels N       largest source in pixels (default 100000000)
  --max-side N                largest result width or height (default 16384)
  --max-body-bytes N          largest request body (default 65536)
  --max-queue N               unfinished jobs before new ones get 503 (default 4 per worker)
  --max-svg-bytes N           largest SVG source (default 10485760)
  --transfer-timeout-ms N     connect, reply and idle-data timeout (default 30000)
  --task-timeout-ms N         longest a job may run in a worker (default 120000)
  --render-timeout-ms N       longest an SVG may take to render (default 30000)

Jobs:
  --data-dir DIR              where the job journal lives (default /var/lib/imgserve as
                              root, else ~/.imgserve)
  --kv LOCATION               Deno KV location for the journal instead (a file, a URL
                              several servers share, or :memory:)
  --lease-ms N                a server's claim on a job lapses after this (default 15000)
  --max-attempts N            tries before a job with passing failures fails (default 5)
  --retry-base-ms N           first retry delay, doubled each try (default 1000)
  --keep-finished-ms N        finished jobs stay readable this long (default 86400000)
  --grace-ms N                SIGTERM waits this long for running jobs (default 30000)

Access (safe by default: no local files, no private networks):
  --token T                   require "Authorization: Bearer T" (all but GET /healthz)
  --file-root DIR             allow file:// under DIR (repeatable; none by default)
  --allow-private-networks    allow loopback, private and link-local addresses
  --allow-host PATTERN        only these hosts: name, *.domain or IP (repeatable)
  -h, --help                  this text
`;

/** Thrown for bad command lines; main prints it with the usage. */
export class UsageError extends Error {}

const OPTIONS = {
  host: { type: "string" },
  port: { type: "string" },
  workers: { type: "string" },
  "font-dir": { type: "string", multiple: true },
  "ca-file": { type: "string" },
  "cmyk-profile": { type: "string" },
  "pid-file": { type: "string" },
  "log-file": { type: "string" },
  "max-source-bytes": { type: "string" },
  "max-source-pixels": { type: "string" },
  "max-side": { type: "string" },
  "max-body-bytes": { type: "string" },
  "max-queue": { type: "string" },
  "transfer-timeout-ms": { type: "string" },
  "task-timeout-ms": { type: "string" },
  "max-svg-bytes": { type: "string" },
  "render-timeout-ms": { type: "string" },
  token: { type: "string" },
  "file-root": { type: "string", multiple: true },
  "allow-private-networks": { type: "boolean" },
  "allow-host": { type: "string", multiple: true },
  "data-dir": { type: "string" },
  kv: { type: "string" },
  "lease-ms": { type: "string" },
  "max-attempts": { type: "string" },
  "retry-base-ms": { type: "string" },
  "keep-finished-ms": { type: "string" },
  "grace-ms": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** The system font folders searched for SVG text. */
export const SYSTEM_FONT_DIRS = ["/usr/share/fonts", "/usr/local/share/fonts"];

/** What the environment tells config: variables, user, cores, home. */
export interface Environment {
  vars: Record<string, string>;
  isRoot: boolean;
  cores: number;
  home: string;
}

/** Reads the process environment, for {@linkcode parseConfig}. */
export function processEnvironment(): Environment {
  return {
    vars: Deno.env.toObject(),
    isRoot: Deno.uid() === 0,
    cores: navigator.hardwareConcurrency || 1,
    home: Deno.env.get("HOME") ?? "/tmp",
  };
}

/**
 * Parses a command line (the seed's single-dash long flags such as
 * `-port 8602` included). Returns undefined for `--help`.
 *
 * @example
 * ```ts
 * const config = parseConfig(["run", "-port", "9000"], processEnvironment());
 * ```
 */
export function parseConfig(args: string[], env: Environment): Config | undefined {
  const normalized = args.map((a) => /^-[a-z][a-z-]+(=.*)?$/.test(a) ? "-" + a : a);
  let parsed;
  try {
    parsed = parseArgs({ args: normalized, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return undefined;
  const command = positionals[0];
  if (!["start", "stop", "status", "restart", "run"].includes(command)) {
    throw new UsageError(command ? `unknown command "${command}"` : "no command given");
  }
  if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1]}"`);
  const get = (name: keyof typeof OPTIONS): string | undefined => {
    const value = (values as Record<string, unknown>)[name];
    if (typeof value === "string") return value;
    return env.vars[`IMGSERVE_${name.toUpperCase().replaceAll("-", "_")}`];
  };
  const int = (name: keyof typeof OPTIONS, fallback: number, min = 1): number => {
    const raw = get(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isSafeInteger(n) || n < min) {
      throw new UsageError(`--${name} must be a whole number >= ${min}, not "${raw}"`);
    }
    return n;
  };
  const list = (name: string, separator: string) => env.vars[name]?.split(separator).filter(Boolean) ?? [];
  const workers = int("workers", env.cores);
  const stateDir = env.isRoot ? undefined : `${env.home}/.imgserve`;
  const fontDirs = [
    ...SYSTEM_FONT_DIRS,
    ...(values["font-dir"] ?? []),
    ...(env.vars.IMGSERVE_FONT_DIR?.split(":") ?? []),
  ];
  const caFile = get("ca-file");
  const port = int("port", 8602, 0);
  if (port > 65535) throw new UsageError("--port must be at most 65535");
  return {
    command: command as Command,
    host: get("host") ?? "0.0.0.0",
    port,
    workers,
    fontDirs,
    caFile,
    cmykProfile: get("cmyk-profile"),
    pidFile: get("pid-file") ?? (stateDir ? `${stateDir}/imgserve.pid` : "/var/run/imgserve.pid"),
    logFile: get("log-file") ?? (stateDir ? `${stateDir}/imgserve.log` : "/var/log/imgserve/imgserve.log"),
    logToFile: get("log-file") !== undefined,
    limits: {
      maxSourceBytes: int("max-source-bytes", 50 * 1024 * 1024),
      maxSourcePixels: int("max-source-pixels", 100_000_000),
      maxSide: int("max-side", 16384),
      maxBodyBytes: int("max-body-bytes", 64 * 1024),
      maxQueue: int("max-queue", workers * 4),
      transferTimeoutMs: int("transfer-timeout-ms", 30_000),
      taskTimeoutMs: int("task-timeout-ms", 120_000),
      maxSvgBytes: int("max-svg-bytes", 10 * 1024 * 1024),
      renderTimeoutMs: int("render-timeout-ms", 30_000),
    },
    jobs: {
      kv: get("kv") ?? `${get("data-dir") ?? stateDir ?? "/var/lib/imgserve"}/jobs.kv`,
      leaseMs: int("lease-ms", 15_000),
      maxAttempts: int("max-attempts", 5),
      retryBaseMs: int("retry-base-ms", 1000),
      keepFinishedMs: int("keep-finished-ms", 24 * 3600 * 1000),
      graceMs: int("grace-ms", 30_000, 0),
    },
    access: {
      token: get("token") || undefined,
      fileRoots: [...(values["file-root"] ?? []), ...list("IMGSERVE_FILE_ROOT", ":")],
      allowPrivateNetworks: values["allow-private-networks"] ??
        /^(1|true|yes)$/i.test(env.vars.IMGSERVE_ALLOW_PRIVATE_NETWORKS ?? ""),
      allowHosts: [...(values["allow-host"] ?? []), ...list("IMGSERVE_ALLOW_HOST", ",")],
    },
  };
}
