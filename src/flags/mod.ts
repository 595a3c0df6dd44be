/**
 * The one table of flags, in the order `--help` lists them. A new flag is
 * one entry in its section's file (its `to` names where the value lands in
 * the Config, whose type follows) plus its row in the README.
 *
 * @module
 */
import type { Flag, ValueOf } from "./flag.ts";
import { SERVER_FLAGS } from "./server_flags.ts";
import { CONNECTION_FLAGS } from "./connections.ts";
import { JOB_FLAGS } from "./jobs.ts";
import { ACCESS_FLAGS } from "./access.ts";

export type { DefaultContext, Flag, Section } from "./flag.ts";
export { DEFAULT_RESULT_PIXELS, SYSTEM_FONT_DIRS, WORKER_RESULT_PIXELS } from "./server_flags.ts";
export { isWebhookSecret } from "./access.ts";

/** Every flag, in the order `--help` lists them. */
export const FLAGS = [...SERVER_FLAGS, ...CONNECTION_FLAGS, ...JOB_FLAGS, ...ACCESS_FLAGS] as const;

/** Every entry of the table, each with its own literal type. */
export type FlagEntry = typeof FLAGS[number];

/** A flag's name without its dashes: `"max-side"`. */
export type FlagName = FlagEntry["name"];

/** Each flag's resolved value, typed from the table. */
export type FlagValues = { [F in FlagEntry as F["name"]]: ValueOf<F> };

/** The table's entry for a flag. */
export function flagNamed(name: FlagName): Flag {
  return (FLAGS as readonly Flag[]).find((f) => f.name === name)!;
}

/** The variable a flag is also read from: `--max-side` is `IMGSERVE_MAX_SIDE`. */
export function envName(flag: string): string {
  return `IMGSERVE_${flag.toUpperCase().replaceAll("-", "_")}`;
}
