/**
 * Every flag and IMGSERVE_* variable, parsed once into one typed
 * {@linkcode Config}. No other module reads Deno.env, and only main.ts
 * hands over Deno.args. A flag is declared once, in the table of
 * flags/mod.ts: its usage line, parser option, variable, default, checks
 * and its place in the Config (and so the Config's type) come from that
 * entry.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { envName, type Flag, type FlagEntry, flagNamed, FLAGS, type FlagValues, type Section } from "./flags/mod.ts";
import type { ValueOf } from "./flags/flag.ts";
import { maskCredentials } from "./log.ts";
import { isPostgres } from "./journal/mod.ts";
import { type S3Settings, s3Settings } from "./transport/s3/s3_settings.ts";

/** The CLI commands. */
export type Command = "start" | "stop" | "status" | "restart" | "run";

/** `"limits.maxSide"` → `"limits"`; `"port"` stays `"port"`. */
type Group<P> = P extends `${infer G}.${string}` ? G : P;

/** The flags' values by the `to` path of their entry. */
type ByPath = { [F in FlagEntry as F extends { to: infer P extends string } ? P : never]: ValueOf<F> };

/** The part of the Config the table fills: `to: "limits.maxSide"` becomes `limits: { maxSide: number }`. */
export type FlagConfig = {
  [G in Group<keyof ByPath>]: G extends keyof ByPath ? ByPath[G]
    : { [P in keyof ByPath as P extends `${G}.${infer K}` ? K : never]: ByPath[P] };
};

/** The whole configuration: what the flags fill, and what is derived from several of them. */
export interface Config extends FlagConfig {
  command: Command;
  /** Every folder searched for fonts: the system's (or `--system-font-dir`), then each `--font-dir`. */
  fontDirs: string[];
  /** The `--font-dir` folders alone: these must exist, the system ones need not. */
  extraFontDirs: string[];
  /** Whether `--log-file` was given: `run` then logs there instead of stdout. */
  logToFile: boolean;
  jobs: FlagConfig["jobs"] & {
    /**
     * The journal's location: a postgres:// URL (`--journal`), a Deno KV
     * location (`--kv`), else `jobs.kv` in `--data-dir`.
     */
    kv: string;
    /** The `--data-dir` the KV file lives in, when neither `--kv` nor `--journal` was given. */
    dataDir?: string;
  };
  /** The S3 endpoint, region and credentials: the `--s3-*` flags, then the AWS variables. */
  s3: S3Settings;
}

/** Limits that protect the server. */
export type Limits = Config["limits"];

/** Thrown for bad command lines; main prints it with the usage. */
export class UsageError extends Error {}

/** What the environment tells config: variables, user, cores, home. */
export interface Environment {
  vars: Record<string, string>;
  isRoot: boolean;
  cores: number;
  home: string;
}

/** Reads the process environment, for {@linkcode parseConfig} and the background server's start. */
export function processEnvironment(): Environment {
  return {
    vars: Deno.env.toObject(),
    isRoot: Deno.uid() === 0,
    cores: navigator.hardwareConcurrency || 1,
    home: Deno.env.get("HOME") ?? "/tmp",
  };
}

/** The problem with a secret read from a file (`--token-file`), or undefined; `source` names where it came from. */
export function secretProblem(name: "token" | "callback-secret", value: string, source: string): string | undefined {
  return (flagNamed(name) as Flag & { kind: "string" }).check?.(value, source);
}

/** The parser options for node:util's parseArgs, one per flag, and `-h`/`--help`. */
export const OPTIONS = {
  ...Object.fromEntries(
    FLAGS.map((f: Flag) => [f.name, { type: f.kind === "bool" ? "boolean" : "string", multiple: f.kind === "list" }]),
  ) as Record<FlagEntry["name"], { type: "string" | "boolean"; multiple: boolean }>,
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
  const fromFlags = placeValues(v);
  const extraFontDirs = v["font-dir"].filter(Boolean);
  const journal = v.journal as string | undefined;
  if (journal !== undefined && !isPostgres(journal)) {
    throw new UsageError(`--journal must be a postgres:// or postgresql:// URL, not "${maskCredentials(journal)}"`);
  }
  if (journal !== undefined && v.kv !== undefined) throw new UsageError("give --journal or --kv, not both");
  const dataDir = v.kv === undefined && journal === undefined ? v["data-dir"] : undefined;
  return {
    ...fromFlags,
    command: command as Command,
    fontDirs: [...v["system-font-dir"], ...extraFontDirs],
    extraFontDirs,
    logToFile: given.has("log-file"),
    jobs: { ...fromFlags.jobs, kv: journal ?? v.kv ?? `${dataDir}/jobs.kv`, dataDir },
    s3: s3Settings(fromFlags.s3, env.vars),
  };
}

/** Puts each value where its entry's `to` says, scaled where it says so. */
function placeValues(values: FlagValues): FlagConfig {
  const config: Record<string, unknown> = {};
  for (const flag of FLAGS as readonly Flag[]) {
    if (flag.to === undefined) continue;
    const value = (values as Record<string, unknown>)[flag.name];
    const placed = flag.kind === "int" && flag.scale && value !== undefined ? (value as number) * flag.scale : value;
    const [group, key] = flag.to.split(".");
    if (key === undefined) config[group] = placed;
    else ((config[group] ??= {}) as Record<string, unknown>)[key] = placed;
  }
  return config as FlagConfig;
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
        if (flag.choices && !flag.choices.includes(raw)) {
          throw new UsageError(`${source} must be ${flag.choices.join(" or ")}, not "${raw}"`);
        }
        const problem = flag.check?.(raw, source);
        if (problem) throw new UsageError(problem);
        value = raw;
      }
    }
    values[flag.name] = value;
  }
  return { values: values as FlagValues, given };
}
