/**
 * What `imgserve start` was given, kept beside its pid file so `restart`
 * starts the same server and `status` can say how it runs; and secrets
 * moved off the command line, where every user of the machine can read
 * them (`ps`, /proc/PID/cmdline).
 *
 * @module
 */
import { envName } from "./flags/mod.ts";

/** Flags whose value is a secret: on a command line they are visible to every user. */
export const SECRET_FLAGS = ["token", "callback-secret"] as const;

const SECRET_VARIABLES = new Set<string>(SECRET_FLAGS.map(envName));

/** The flags and IMGSERVE_* variables a background server was started with. */
export interface Settings {
  /** The command line's flags, secrets taken out. */
  flags: string[];
  /** Every IMGSERVE_* variable it got, secrets included (the file is readable by its owner only). */
  env: Record<string, string>;
  startedAt: string;
}

/** The settings file beside a pid file: `imgserve.pid` → `imgserve.settings.json`. */
export function settingsFile(pidFile: string): string {
  return pidFile.replace(/(\.pid)?$/, ".settings.json");
}

/**
 * Splits secret flags (`--token T`, `-token=T`, …) off a command line: the
 * rest, the secrets as the variables that carry them instead, and the flags
 * that were found.
 */
export function takeSecretFlags(flags: string[]): { flags: string[]; env: Record<string, string>; found: string[] } {
  const rest: string[] = [];
  const env: Record<string, string> = {};
  const found: string[] = [];
  for (let i = 0; i < flags.length; i++) {
    const match = /^--?([a-z-]+)(?:=(.*))?$/s.exec(flags[i]);
    const name = SECRET_FLAGS.find((secret) => secret === match?.[1]);
    if (!match || !name) {
      rest.push(flags[i]);
      continue;
    }
    const value = match[2] ?? flags[++i];
    if (value === undefined) {
      rest.push(flags[i - 1]); // no value: left for the parser to report
      continue;
    }
    env[envName(name)] = value;
    found.push(`--${name}`);
  }
  return { flags: rest, env, found };
}

/** The warning printed when a secret came on the command line. */
export function secretFlagWarning(found: string[], moved: boolean): string {
  const files = found.map((flag) => `${flag}-file FILE or ${envName(flag.slice(2))}`).join(", ");
  const what = moved
    ? "the background server gets it through its environment instead, but this command line " +
      "showed it"
    : "it stays visible while the server runs";
  return `imgserve: warning: ${found.join(" and ")} on the command line can be read by every user of this machine ` +
    `(ps, /proc/PID/cmdline); ${what}. Use ${files}`;
}

/** The IMGSERVE_* variables among `vars`. */
export function imgserveVariables(vars: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(vars).filter(([name]) => name.startsWith("IMGSERVE_")));
}

/** Writes the settings beside the pid file, readable and writable by its owner only. */
export async function writeSettings(pidFile: string, settings: Settings): Promise<void> {
  const path = settingsFile(pidFile);
  await Deno.remove(path).catch(() => {});
  await Deno.writeTextFile(path, JSON.stringify(settings, null, 2) + "\n", { mode: 0o600, createNew: true });
}

/** The recorded settings, or undefined when there are none (or they cannot be read). */
export async function readSettings(pidFile: string): Promise<Settings | undefined> {
  try {
    const settings = JSON.parse(await Deno.readTextFile(settingsFile(pidFile)));
    if (!Array.isArray(settings.flags) || typeof settings.env !== "object") return undefined;
    return settings as Settings;
  } catch {
    return undefined;
  }
}

/** The settings as `status` prints them, secret values hidden. */
export function describeSettings(settings: Settings): string {
  const quote = (s: string) => /^[\w./:@,=+-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
  const vars = Object.entries(settings.env).map(([name, value]) =>
    `${name}=${SECRET_VARIABLES.has(name) ? "(hidden)" : quote(value)}`
  );
  return [
    `started ${settings.startedAt}`,
    `flags: ${settings.flags.map(quote).join(" ") || "(none)"}`,
    `environment: ${vars.join(" ") || "(no IMGSERVE_* variables)"}`,
  ].join("\n");
}

/**
 * What `restart` starts with: the flags it was given and today's variables
 * when it was given any flag besides `--pid-file`; else the recorded flags
 * and variables, today's IMGSERVE_* variables winning.
 */
export function restartSettings(
  flags: string[],
  vars: Record<string, string>,
  recorded: Settings | undefined,
): { flags: string[]; vars: Record<string, string>; reused: boolean } {
  const onlyPidFile = flags.length === 0 || (flags.length <= 2 && /^--?pid-file(=|$)/.test(flags[0]));
  if (!recorded || !onlyPidFile) return { flags, vars, reused: false };
  return { flags: recorded.flags, vars: { ...vars, ...recorded.env, ...imgserveVariables(vars) }, reused: true };
}
