/**
 * Every flag and IMGSERVE_* variable, parsed once into one typed
 * {@linkcode Config}. No other module reads Deno.args or Deno.env.
 * A flag is declared once, in {@linkcode FLAGS}: its usage line, parser
 * option, variable, default and checks all come from that entry.
 *
 * @module
 */
import { type LogFormat, maskCredentials } from "./log.ts";
import { isPostgres } from "./journal/mod.ts";
import { WEBP_MAX_SIDE } from "./job/plan.ts";
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
  /** --shared-file-roots: the --file-root folders are the same on every server of a shared journal. */
  sharedFileRoots: boolean;
  /** Host patterns sources and destinations are restricted to; empty means any. */
  allowHosts: string[];
}

/** The whole configuration. */
export interface Config {
  command: Command;
  host: string;
  port: number;
  workers: number;
  /** `--worker-memory` in bytes: a worker over it is replaced between jobs; a job whose plan needs more is refused. */
  workerMemory: number;
  /** Every folder searched for fonts: the system's (or `--system-font-dir`), then each `--font-dir`. */
  fontDirs: string[];
  /** The `--font-dir` folders alone: these must exist, the system ones need not. */
  extraFontDirs: string[];
  /** `--callback-secret`: a Standard Webhooks secret (`whsec_` + base64) that signs callbacks. */
  callbackSecret?: string;
  /** `--token-file` and `--callback-secret-file`: read at start-up into `access.token` and `callbackSecret`. */
  secretFiles: { token?: string; callbackSecret?: string };
  /** PEM text of `--ca-file`, trusted besides the system roots. */
  caFile?: string;
  /** `--cmyk-profile`: a file, "none", or undefined for the first system profile found. */
  cmykProfile?: string;
  pidFile: string;
  logFile: string;
  /** Whether `--log-file` was given: `run` then logs there instead of stdout. */
  logToFile: boolean;
  logFormat: LogFormat;
  limits: Limits;
  access: Access;
  jobs: JobPolicy;
  connections: ConnectionLimits;
  /** Origins sent CORS headers; none sends none. */
  corsOrigins: string[];
}

/** Where jobs are kept and how they are retried. */
export interface JobPolicy {
  /** The journal's location: a Deno KV file path, URL or ":memory:", or a postgres:// URL (--journal). */
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

/** Thrown for bad command lines; main prints it with the usage. */
export class UsageError extends Error {}

/**
 * The most `--max-result-pixels` may allow: every encoder holds the whole
 * result in its WebAssembly memory, and libaom needs about 38 bytes a
 * pixel, so beyond this an AVIF result would pass WebAssembly's 4 GiB.
 */
export const WORKER_RESULT_PIXELS = 100_000_000;

/**
 * The default `--max-result-pixels`: 4K (3840x2160 and 4096x2160) and a
 * 16383x610 banner. Every result within it and `--max-side`, in every
 * format, fits the default `--worker-memory` with room for the source's
 * decode (see the README's Performance section); the budget is derived from
 * it, so the defaults never refuse with 508 what they allow with 503/507.
 */
export const DEFAULT_RESULT_PIXELS = 10_000_000;

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

/** Where a flag is listed in the usage text. */
type Section = "flags" | "connections" | "jobs" | "access";

/** What a computed default may read. */
export interface DefaultContext {
  cores: number;
  /** `~/.imgserve` for a normal user, undefined for root (system folders then). */
  stateDir?: string;
  /** The flags listed before this one, already resolved. */
  values: Record<string, unknown>;
}

interface FlagBase {
  /** `--name` on the command line, `IMGSERVE_NAME` in the environment. */
  name: string;
  section: Section;
  /** The value's placeholder in the usage text; none for a switch. */
  arg?: string;
  /** Usage text: `{default}` stands for the default, `\n` continues on the next line. */
  help: string;
  /** The usage shows the seed's single-dash form too (every flag accepts it). */
  singleDash?: boolean;
}

/** A whole number, at least `min` (1 unless told). */
interface IntFlag extends FlagBase {
  kind: "int";
  default?: number | ((c: DefaultContext) => number);
  min?: number;
  /** A further rule: the error message, or undefined when `n` is fine. */
  check?: (n: number, source: string) => string | undefined;
}

interface StringFlag extends FlagBase {
  kind: "string";
  default?: string | ((c: DefaultContext) => string);
  /** An empty value counts as not given (secrets: "" must not mean a blank one). */
  emptyIsUnset?: boolean;
  check?: (value: string, source: string) => string | undefined;
}

/** Repeatable; the variable holds a list split on `separator`. */
interface ListFlag extends FlagBase {
  kind: "list";
  separator: ":" | ",";
  /** Given values replace this default (flags, else the variable); otherwise flags and variable add up. */
  default?: readonly string[];
}

/** A switch; the variable turns it on with 1, true or yes. */
interface BoolFlag extends FlagBase {
  kind: "bool";
  default?: undefined;
}

/** One flag, declared once: its usage line, parser option, variable, default and checks. */
export type Flag = IntFlag | StringFlag | ListFlag | BoolFlag;

const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

/** Every flag, in the order `--help` lists them. */
export const FLAGS = [
  {
    name: "host",
    section: "flags",
    kind: "string",
    arg: "IP",
    singleDash: true,
    default: "0.0.0.0",
    help: "address to listen on (default {default})",
    check: (host, source) =>
      /^[\d.]+$/.test(host) && !IPV4.test(host)
        ? `${source} ${host} is not an IPv4 address; give one such as 127.0.0.1 or 0.0.0.0`
        : undefined,
  },
  {
    name: "port",
    section: "flags",
    kind: "int",
    arg: "N",
    singleDash: true,
    default: 8602,
    min: 0,
    help: "port to listen on (default {default})",
    check: (port, source) => port > 65535 ? `${source} must be at most 65535, not ${port}` : undefined,
  },
  {
    name: "workers",
    section: "flags",
    kind: "int",
    arg: "N",
    default: (c) => c.cores,
    help: "image workers (default: number of CPU cores)",
  },
  {
    name: "worker-memory",
    section: "flags",
    kind: "int",
    arg: "MiB",
    default: 512,
    min: 64,
    help: "WebAssembly memory plus kept buffers one worker may hold; jobs needing more get 508 (default {default})",
  },
  {
    name: "font-dir",
    section: "flags",
    kind: "list",
    separator: ":",
    arg: "DIR",
    help: "extra folder of fonts for SVG text (repeatable)",
  },
  {
    name: "system-font-dir",
    section: "flags",
    kind: "list",
    separator: ":",
    arg: "DIR",
    default: SYSTEM_FONT_DIRS,
    help: 'replaces the system font folders (repeatable; "" for none)',
  },
  {
    name: "ca-file",
    section: "flags",
    kind: "string",
    arg: "FILE",
    help: "extra trusted CA certificates (PEM) for HTTPS and FTPS",
  },
  {
    name: "cmyk-profile",
    section: "flags",
    kind: "string",
    arg: "FILE",
    help: 'CMYK ICC profile for CMYK JPEGs that carry none, or "none"\n' +
      "(default: Ghostscript's default_cmyk.icc if installed)",
  },
  {
    name: "pid-file",
    section: "flags",
    kind: "string",
    arg: "FILE",
    default: (c) => c.stateDir ? `${c.stateDir}/imgserve.pid` : "/var/run/imgserve.pid",
    help: "pid file (default /var/run/imgserve.pid as root,\nelse ~/.imgserve/imgserve.pid)",
  },
  {
    name: "log-file",
    section: "flags",
    kind: "string",
    arg: "FILE",
    default: (c) => c.stateDir ? `${c.stateDir}/imgserve.log` : "/var/log/imgserve/imgserve.log",
    help: "log file (default /var/log/imgserve/imgserve.log as\nroot, else ~/.imgserve/imgserve.log)",
  },
  {
    name: "log-format",
    section: "flags",
    kind: "string",
    arg: "text|json",
    default: "text",
    help: "log lines as plain text (default) or one JSON object each",
    check: (format, source) =>
      format === "text" || format === "json" ? undefined : `${source} must be text or json, not "${format}"`,
  },
  {
    name: "max-source-bytes",
    section: "flags",
    kind: "int",
    arg: "N",
    default: 50 * 1024 * 1024,
    help: "largest source download (default {default})",
  },
  {
    name: "max-source-pixels",
    section: "flags",
    kind: "int",
    arg: "N",
    default: 100_000_000,
    help: "largest source in pixels (default {default})",
  },
  {
    name: "max-side",
    section: "flags",
    kind: "int",
    arg: "N",
    default: WEBP_MAX_SIDE,
    help: "largest result width or height (default {default})",
  },
  {
    name: "max-result-pixels",
    section: "flags",
    kind: "int",
    arg: "N",
    default: DEFAULT_RESULT_PIXELS,
    help: `largest result, width x height, at most ${WORKER_RESULT_PIXELS} (default {default})`,
    check: (n) =>
      n > WORKER_RESULT_PIXELS
        ? `--max-result-pixels can be at most ${WORKER_RESULT_PIXELS}, what a worker can allocate`
        : undefined,
  },
  {
    name: "max-body-bytes",
    section: "flags",
    kind: "int",
    arg: "N",
    default: 64 * 1024,
    help: "largest request body (default {default})",
  },
  {
    name: "max-queue",
    section: "flags",
    kind: "int",
    arg: "N",
    default: (c) => (c.values.workers as number) * 4,
    help: "unfinished jobs before new ones get 503 (default 4 per worker)",
  },
  {
    name: "max-svg-bytes",
    section: "flags",
    kind: "int",
    arg: "N",
    default: 10 * 1024 * 1024,
    help: "largest SVG source (default {default})",
  },
  {
    name: "transfer-timeout-ms",
    section: "flags",
    kind: "int",
    arg: "N",
    default: 30_000,
    help: "connect, reply and idle-data timeout (default {default})",
  },
  {
    name: "task-timeout-ms",
    section: "flags",
    kind: "int",
    arg: "N",
    default: 120_000,
    help: "longest a job may run in a worker (default {default})",
  },
  {
    name: "render-timeout-ms",
    section: "flags",
    kind: "int",
    arg: "N",
    default: 30_000,
    help: "longest an SVG may take to render (default {default})",
  },
  {
    name: "source-timeout-ms",
    section: "flags",
    kind: "int",
    arg: "N",
    default: 120_000,
    help: "longest a whole source download may take (default {default})",
  },
  {
    name: "max-connections",
    section: "connections",
    kind: "int",
    arg: "N",
    help: "open connections before new ones get 503 (default: half\nthe open-file limit, at most 10000)",
  },
  {
    name: "header-timeout-ms",
    section: "connections",
    kind: "int",
    arg: "N",
    default: 10_000,
    help: "request line and headers must arrive within (default {default})",
  },
  {
    name: "body-timeout-ms",
    section: "connections",
    kind: "int",
    arg: "N",
    default: 10_000,
    help: "request body must arrive within (default {default})",
  },
  {
    name: "keep-alive-timeout-ms",
    section: "connections",
    kind: "int",
    arg: "N",
    default: 5_000,
    help: "idle keep-alive connections close after (default {default})",
  },
  {
    name: "cors-origin",
    section: "connections",
    kind: "list",
    separator: ",",
    arg: "ORIGIN",
    help:
      "send CORS headers to this browser origin (repeatable;\nnone by default, so browsers cannot post cross-origin)",
  },
  {
    name: "data-dir",
    section: "jobs",
    kind: "string",
    arg: "DIR",
    default: (c) => c.stateDir ?? "/var/lib/imgserve",
    help: "where the job journal lives (default /var/lib/imgserve as\nroot, else ~/.imgserve)",
  },
  {
    name: "kv",
    section: "jobs",
    kind: "string",
    arg: "LOCATION",
    help: "Deno KV location for the journal instead (a file, a URL\nseveral servers share, or :memory:)",
  },
  {
    name: "journal",
    section: "jobs",
    kind: "string",
    arg: "URL",
    help: "PostgreSQL journal several servers share instead\n(postgres://USER:PASS@HOST:PORT/DB)",
  },
  {
    name: "lease-ms",
    section: "jobs",
    kind: "int",
    arg: "N",
    default: 15_000,
    help: "a server's claim on a job lapses after this (default {default})",
  },
  {
    name: "max-attempts",
    section: "jobs",
    kind: "int",
    arg: "N",
    default: 5,
    help: "tries before a job with passing failures fails (default {default})",
  },
  {
    name: "retry-base-ms",
    section: "jobs",
    kind: "int",
    arg: "N",
    default: 1000,
    help: "first retry delay, doubled each try (default {default})",
  },
  {
    name: "keep-finished-ms",
    section: "jobs",
    kind: "int",
    arg: "N",
    default: 24 * 3600 * 1000,
    help: "finished jobs stay readable this long (default {default})",
  },
  {
    name: "grace-ms",
    section: "jobs",
    kind: "int",
    arg: "N",
    default: 30_000,
    min: 0,
    help: "SIGTERM waits this long for running jobs (default {default})",
  },
  {
    name: "token",
    section: "access",
    kind: "string",
    arg: "T",
    emptyIsUnset: true,
    help: 'require "Authorization: Bearer T" (all but GET /healthz)',
    // RFC 6750's token68: what a client can send in the header, and all Hono's bearer-auth takes.
    check: (token, source) =>
      /^[A-Za-z0-9._~+/-]+=*$/.test(token)
        ? undefined
        : `${source} may hold only letters, digits and . _ ~ + / - (then = padding), as a bearer token must`,
  },
  {
    name: "token-file",
    section: "access",
    kind: "string",
    arg: "FILE",
    emptyIsUnset: true,
    help: "read the token from FILE (kept out of ps, unlike --token)",
  },
  {
    name: "file-root",
    section: "access",
    kind: "list",
    separator: ":",
    arg: "DIR",
    help: "allow file:// under DIR (repeatable; none by default)",
  },
  {
    name: "shared-file-roots",
    section: "access",
    kind: "bool",
    help:
      "with --journal: every server has the same --file-root\nfolders (one shared mount), so any server may run a file:// job",
  },
  {
    name: "allow-private-networks",
    section: "access",
    kind: "bool",
    help: "allow loopback, private and link-local addresses",
  },
  {
    name: "allow-host",
    section: "access",
    kind: "list",
    separator: ",",
    arg: "PATTERN",
    help: "only these hosts: name, *.domain or IP (repeatable)",
  },
  {
    name: "callback-secret",
    section: "access",
    kind: "string",
    arg: "whsec_...",
    emptyIsUnset: true,
    help: "sign callbacks the Standard Webhooks way",
    check: (secret, source) =>
      isWebhookSecret(secret) ? undefined : `${source} must be "whsec_" followed by at least 16 base64 bytes ` +
        `(make one with: echo whsec_$(openssl rand -base64 32))`,
  },
  {
    name: "callback-secret-file",
    section: "access",
    kind: "string",
    arg: "FILE",
    emptyIsUnset: true,
    help: "read the callback secret from FILE (kept out of ps)",
  },
] as const satisfies readonly Flag[];

/** The problem with a secret read from a file (`--token-file`), or undefined; `source` names where it came from. */
export function secretProblem(name: "token" | "callback-secret", value: string, source: string): string | undefined {
  return (flagNamed(name) as StringFlag).check?.(value, source);
}

type FlagName = typeof FLAGS[number]["name"];

type ValueOf<F> = F extends { kind: "bool" } ? boolean
  : F extends { kind: "list" } ? string[]
  : F extends { kind: "int" } ? (F extends { default: unknown } ? number : number | undefined)
  : F extends { default: unknown } ? string
  : string | undefined;

/** Each flag's resolved value, typed from the table: a flag without a default may be undefined. */
export type FlagValues = { [F in typeof FLAGS[number] as F["name"]]: ValueOf<F> };

/** The parser options for node:util's parseArgs, one per flag, and `-h`/`--help`. */
export const OPTIONS = {
  ...Object.fromEntries(
    FLAGS.map((f: Flag) => [f.name, { type: f.kind === "bool" ? "boolean" : "string", multiple: f.kind === "list" }]),
  ) as Record<FlagName, { type: "string" | "boolean"; multiple: boolean }>,
  help: { type: "boolean", short: "h" },
} as const;

const SECTION_TITLES: Record<Section, string> = {
  flags: `Flags (each also read from IMGSERVE_<NAME>, e.g. ${envName("port")}=${flagNamed("port").default}):`,
  connections: "Connections:",
  jobs: "Jobs:",
  access: "Access (safe by default: no local files, no private networks):",
};

/** A flag's lines in the usage text: its form, then its help aligned at column 30. */
function usageLines(flag: Flag): string {
  const form = `${flag.singleDash ? `-${flag.name}, ` : ""}--${flag.name}${flag.arg ? ` ${flag.arg}` : ""}`;
  const shown = typeof flag.default === "number" || typeof flag.default === "string" ? String(flag.default) : "";
  const [first, ...rest] = flag.help.replace("{default}", shown).split("\n");
  return [`  ${form.padEnd(27)} ${first}`, ...rest.map((line) => " ".repeat(30) + line)].join("\n");
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
` + (Object.keys(SECTION_TITLES) as Section[]).map((section) =>
  [
    `\n${SECTION_TITLES[section]}`,
    ...FLAGS.filter((f: Flag) => f.section === section).map(usageLines),
    ...(section === "access" ? ["  -h, --help                  this text"] : []),
  ].join("\n") + "\n"
).join("");

function flagNamed(name: FlagName): Flag {
  return FLAGS.find((f) => f.name === name)!;
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
  const stateDir = env.isRoot ? undefined : `${env.home}/.imgserve`;
  const { values: v, given } = resolveFlags(values as Record<string, unknown>, env, stateDir);
  const systemFontDirs = v["system-font-dir"];
  const extraFontDirs = v["font-dir"].filter(Boolean);
  const journal: string | undefined = v.journal;
  if (journal !== undefined && !isPostgres(journal)) {
    throw new UsageError(`--journal must be a postgres:// or postgresql:// URL, not "${maskCredentials(journal)}"`);
  }
  if (journal !== undefined && v.kv !== undefined) throw new UsageError("give --journal or --kv, not both");
  const dataDir = v.kv === undefined && journal === undefined ? v["data-dir"] : undefined;
  return {
    command: command as Command,
    host: v.host,
    port: v.port,
    workers: v.workers,
    workerMemory: v["worker-memory"] * 1024 * 1024,
    fontDirs: [...systemFontDirs, ...extraFontDirs],
    extraFontDirs,
    caFile: v["ca-file"],
    callbackSecret: v["callback-secret"],
    secretFiles: { token: v["token-file"], callbackSecret: v["callback-secret-file"] },
    cmykProfile: v["cmyk-profile"],
    pidFile: v["pid-file"],
    logFile: v["log-file"],
    logToFile: given.has("log-file"),
    logFormat: v["log-format"] as LogFormat,
    limits: {
      maxSourceBytes: v["max-source-bytes"],
      maxSourcePixels: v["max-source-pixels"],
      maxSide: v["max-side"],
      maxResultPixels: v["max-result-pixels"],
      maxBodyBytes: v["max-body-bytes"],
      maxQueue: v["max-queue"],
      transferTimeoutMs: v["transfer-timeout-ms"],
      taskTimeoutMs: v["task-timeout-ms"],
      maxSvgBytes: v["max-svg-bytes"],
      renderTimeoutMs: v["render-timeout-ms"],
      sourceTimeoutMs: v["source-timeout-ms"],
    },
    connections: {
      maxConnections: v["max-connections"],
      headerTimeoutMs: v["header-timeout-ms"],
      bodyTimeoutMs: v["body-timeout-ms"],
      keepAliveTimeoutMs: v["keep-alive-timeout-ms"],
    },
    corsOrigins: v["cors-origin"],
    jobs: {
      kv: journal ?? v.kv ?? `${dataDir}/jobs.kv`,
      dataDir,
      leaseMs: v["lease-ms"],
      maxAttempts: v["max-attempts"],
      retryBaseMs: v["retry-base-ms"],
      keepFinishedMs: v["keep-finished-ms"],
      graceMs: v["grace-ms"],
    },
    access: {
      token: v.token,
      fileRoots: v["file-root"],
      allowPrivateNetworks: v["allow-private-networks"],
      sharedFileRoots: v["shared-file-roots"],
      allowHosts: v["allow-host"],
    },
  };
}

/**
 * Each flag's value from the command line, else its IMGSERVE_ variable, else
 * its default, checked in table order. `given` names the flags set either way.
 */
export function resolveFlags(
  parsed: Record<string, unknown>,
  env: Environment,
  stateDir: string | undefined,
): { values: FlagValues; given: Set<string> } {
  const values: Record<string, unknown> = {};
  const given = new Set<string>();
  for (const flag of FLAGS as readonly Flag[]) {
    const fromFlag = parsed[flag.name];
    const variable: string | undefined = env.vars[envName(flag.name)];
    // An error names the variable when the value came from there.
    const source = fromFlag === undefined ? envName(flag.name) : `--${flag.name}`;
    if (fromFlag !== undefined || variable !== undefined) given.add(flag.name);
    const fallback = () =>
      typeof flag.default === "function" ? flag.default({ cores: env.cores, stateDir, values }) : flag.default;
    let value: unknown;
    if (flag.kind === "bool") {
      value = fromFlag ?? /^(1|true|yes)$/i.test(variable ?? "");
    } else if (flag.kind === "list") {
      const fromFlags = fromFlag as string[] | undefined;
      const fromVariable = variable?.split(flag.separator);
      value = flag.default
        ? (fromFlags ?? fromVariable ?? flag.default).filter(Boolean)
        : [...(fromFlags ?? []), ...(fromVariable?.filter(Boolean) ?? [])];
    } else {
      let raw: string | undefined = (fromFlag as string | undefined) ?? variable;
      if (flag.kind === "string" && flag.emptyIsUnset && raw === "") raw = undefined;
      if (raw === undefined) {
        value = fallback();
      } else if (flag.kind === "int") {
        const n = Number(raw);
        const min = flag.min ?? 1;
        if (raw.trim() === "" || !Number.isSafeInteger(n) || n < min) {
          throw new UsageError(`${source} must be a whole number >= ${min}, not "${raw}"`);
        }
        const problem = flag.check?.(n, source);
        if (problem) throw new UsageError(problem);
        value = n;
      } else {
        const problem = flag.check?.(raw, source);
        if (problem) throw new UsageError(problem);
        value = raw;
      }
    }
    values[flag.name] = value;
  }
  return { values: values as FlagValues, given };
}

/** The variable a flag is also read from: `--max-side` is `IMGSERVE_MAX_SIDE`. */
export function envName(flag: string): string {
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
