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
  /** Largest result, pixels (width x height); at most {@linkcode WORKER_RESULT_PIXELS}. */
  maxResultPixels: number;
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
  /** Longest a whole source download may take, reply included, ms. */
  sourceTimeoutMs: number;
}

/** What one client connection may hold. */
export interface ConnectionLimits {
  /** Open connections past which new ones get 503; undefined: derived from the descriptor limit. */
  maxConnections?: number;
  /** Longest the request line and headers may take to arrive, ms. */
  headerTimeoutMs: number;
  /** Longest the request body may take to arrive after the headers, ms. */
  bodyTimeoutMs: number;
  /** Longest an idle keep-alive connection stays open, ms. */
  keepAliveTimeoutMs: number;
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
  /** Every folder searched for fonts: the system's (or `--system-font-dir`), then each `--font-dir`. */
  fontDirs: string[];
  /** The `--font-dir` folders alone: these must exist, the system ones need not. */
  extraFontDirs: string[];
  /** `--callback-secret`: a Standard Webhooks secret (`whsec_` + base64) that signs callbacks. */
  callbackSecret?: string;
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
  connections: ConnectionLimits;
  /** Origins sent CORS headers; none sends none. */
  corsOrigins: string[];
}

/** Where jobs are kept and how they are retried. */
export interface JobPolicy {
  /** Deno KV location: a file path, a URL, or ":memory:". */
  kv: string;
  /** The `--data-dir` the KV file lives in, when `--kv` was not given. */
  dataDir?: string;
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
  --system-font-dir DIR       replaces the system font folders (repeatable; "" for none)
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
  --max-result-pixels N       largest result, width x height (default and most 100000000)
  --max-body-bytes N          largest request body (default 65536)
  --max-queue N               unfinished jobs before new ones get 503 (default 4 per worker)
  --max-svg-bytes N           largest SVG source (default 10485760)
  --transfer-timeout-ms N     connect, reply and idle-data timeout (default 30000)
  --task-timeout-ms N         longest a job may run in a worker (default 120000)
  --render-timeout-ms N       longest an SVG may take to render (default 30000)
  --source-timeout-ms N       longest a whole source download may take (default 120000)

Connections:
  --max-connections N         open connections before new ones get 503 (default: half
                              the open-file limit, at most 10000)
  --header-timeout-ms N       request line and headers must arrive within (default 10000)
  --body-timeout-ms N         request body must arrive within (default 10000)
  --keep-alive-timeout-ms N   idle keep-alive connections close after (default 5000)
  --cors-origin ORIGIN        send CORS headers to this browser origin (repeatable;
                              none by default, so browsers cannot post cross-origin)

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
  --callback-secret whsec_... sign callbacks the Standard Webhooks way
  -h, --help                  this text
`;

/** Thrown for bad command lines; main prints it with the usage. */
export class UsageError extends Error {}

const OPTIONS = {
  host: { type: "string" },
  port: { type: "string" },
  workers: { type: "string" },
  "font-dir": { type: "string", multiple: true },
  "system-font-dir": { type: "string", multiple: true },
  "callback-secret": { type: "string" },
  "ca-file": { type: "string" },
  "cmyk-profile": { type: "string" },
  "pid-file": { type: "string" },
  "log-file": { type: "string" },
  "max-source-bytes": { type: "string" },
  "max-source-pixels": { type: "string" },
  "max-side": { type: "string" },
  "max-result-pixels": { type: "string" },
  "max-body-bytes": { type: "string" },
  "max-queue": { type: "string" },
  "transfer-timeout-ms": { type: "string" },
  "task-timeout-ms": { type: "string" },
  "max-svg-bytes": { type: "string" },
  "render-timeout-ms": { type: "string" },
  "source-timeout-ms": { type: "string" },
  "max-connections": { type: "string" },
  "header-timeout-ms": { type: "string" },
  "body-timeout-ms": { type: "string" },
  "keep-alive-timeout-ms": { type: "string" },
  "cors-origin": { type: "string", multiple: true },
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

/**
 * The largest result a worker can make: resizing to more pixels runs the
 * resize codec out of its WebAssembly memory (measured: 10240x10240 is made,
 * 16384x8192 fails), so no limit may allow more.
 */
export const WORKER_RESULT_PIXELS = 100_000_000;

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
  const dashed = args.map((a) => /^-[a-z][a-z-]+(=.*)?$/.test(a) ? "-" + a : a);
  // parseArgs takes "-1" for a flag; joined, a negative number reaches the range check.
  const normalized: string[] = [];
  for (let i = 0; i < dashed.length; i++) {
    const joined = /^--[a-z-]+$/.test(dashed[i]) && /^-\d/.test(dashed[i + 1] ?? "");
    normalized.push(joined ? `${dashed[i]}=${dashed[++i]}` : dashed[i]);
  }
  let parsed;
  try {
    parsed = parseArgs({ args: normalized, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    // Node's message goes on to explain positionals; the first sentence is the point.
    throw new UsageError((err as Error).message.split(/\.\s/)[0]);
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
    return env.vars[envName(name)];
  };
  // An error names the variable when the value came from there.
  const source = (name: keyof typeof OPTIONS) =>
    typeof (values as Record<string, unknown>)[name] === "string" ? `--${name}` : envName(name);
  const int = (name: keyof typeof OPTIONS, fallback: number, min = 1): number => {
    const raw = get(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (raw.trim() === "" || !Number.isSafeInteger(n) || n < min) {
      throw new UsageError(`${source(name)} must be a whole number >= ${min}, not "${raw}"`);
    }
    return n;
  };
  const list = (name: string, separator: string) => env.vars[name]?.split(separator).filter(Boolean) ?? [];
  const workers = int("workers", env.cores);
  const stateDir = env.isRoot ? undefined : `${env.home}/.imgserve`;
  const extraFontDirs = [...(values["font-dir"] ?? []), ...(env.vars.IMGSERVE_FONT_DIR?.split(":") ?? [])]
    .filter(Boolean);
  const systemFontDirs = values["system-font-dir"] ?? env.vars.IMGSERVE_SYSTEM_FONT_DIR?.split(":");
  const fontDirs = [...(systemFontDirs ?? SYSTEM_FONT_DIRS).filter(Boolean), ...extraFontDirs];
  const caFile = get("ca-file");
  const port = int("port", 8602, 0);
  if (int("max-result-pixels", WORKER_RESULT_PIXELS) > WORKER_RESULT_PIXELS) {
    throw new UsageError(`--max-result-pixels can be at most ${WORKER_RESULT_PIXELS}, what a worker can allocate`);
  }
  if (port > 65535) throw new UsageError(`${source("port")} must be at most 65535, not ${port}`);
  const host = get("host") ?? "0.0.0.0";
  if (/^[\d.]+$/.test(host) && !/^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/.test(host)) {
    throw new UsageError(`${source("host")} ${host} is not an IPv4 address; give one such as 127.0.0.1 or 0.0.0.0`);
  }
  const callbackSecret = get("callback-secret") || undefined;
  if (callbackSecret !== undefined && !isWebhookSecret(callbackSecret)) {
    throw new UsageError(
      `${source("callback-secret")} must be "whsec_" followed by at least 16 base64 bytes ` +
        `(make one with: echo whsec_$(openssl rand -base64 32))`,
    );
  }
  const dataDir = get("kv") === undefined ? get("data-dir") ?? stateDir ?? "/var/lib/imgserve" : undefined;
  return {
    command: command as Command,
    host,
    port,
    workers,
    fontDirs,
    extraFontDirs,
    caFile,
    callbackSecret,
    cmykProfile: get("cmyk-profile"),
    pidFile: get("pid-file") ?? (stateDir ? `${stateDir}/imgserve.pid` : "/var/run/imgserve.pid"),
    logFile: get("log-file") ?? (stateDir ? `${stateDir}/imgserve.log` : "/var/log/imgserve/imgserve.log"),
    logToFile: get("log-file") !== undefined,
    limits: {
      maxSourceBytes: int("max-source-bytes", 50 * 1024 * 1024),
      maxSourcePixels: int("max-source-pixels", 100_000_000),
      maxSide: int("max-side", 16384),
      maxResultPixels: int("max-result-pixels", WORKER_RESULT_PIXELS),
      maxBodyBytes: int("max-body-bytes", 64 * 1024),
      maxQueue: int("max-queue", workers * 4),
      transferTimeoutMs: int("transfer-timeout-ms", 30_000),
      taskTimeoutMs: int("task-timeout-ms", 120_000),
      maxSvgBytes: int("max-svg-bytes", 10 * 1024 * 1024),
      renderTimeoutMs: int("render-timeout-ms", 30_000),
      sourceTimeoutMs: int("source-timeout-ms", 120_000),
    },
    connections: {
      maxConnections: get("max-connections") === undefined ? undefined : int("max-connections", 0),
      headerTimeoutMs: int("header-timeout-ms", 10_000),
      bodyTimeoutMs: int("body-timeout-ms", 10_000),
      keepAliveTimeoutMs: int("keep-alive-timeout-ms", 5_000),
    },
    corsOrigins: [...(values["cors-origin"] ?? []), ...list("IMGSERVE_CORS_ORIGIN", ",")],
    jobs: {
      kv: get("kv") ?? `${dataDir}/jobs.kv`,
      dataDir,
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

function envName(flag: string): string {
  return `IMGSERVE_${flag.toUpperCase().replaceAll("-", "_")}`;
}

/** Whether `secret` is a Standard Webhooks secret: `whsec_` and at least 16 bytes in base64. */
export function isWebhookSecret(secret: string): boolean {
  const match = /^whsec_([A-Za-z0-9+/]+={0,2})$/.exec(secret);
  if (!match) return false;
  try {
    return atob(match[1]).length >= 16;
  } catch {
    return false;
  }
}
