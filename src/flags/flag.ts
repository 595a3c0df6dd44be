/**
 * What a flag entry is: its usage line, parser option, variable, default,
 * checks, and where its value lands in the {@linkcode Config}.
 *
 * @module
 */

/** Where a flag is listed in the usage text. */
export type Section = "flags" | "connections" | "jobs" | "access";

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
  /**
   * Where the value lands in the Config: `"port"` or `"limits.maxSide"`. None for a flag that only feeds a value
   * the config module derives (the font folders, the journal's location).
   */
  to?: string;
  /** The value's placeholder in the usage text; none for a switch. */
  arg?: string;
  /** Usage text: `{default}` stands for the default, `\n` continues on the next line. */
  help: string;
  /** The usage shows the seed's single-dash form too (every flag accepts it). */
  singleDash?: boolean;
}

/** A whole number, at least `min` (1 unless told). */
export interface IntFlag extends FlagBase {
  kind: "int";
  default?: number | ((c: DefaultContext) => number);
  min?: number;
  /** The Config holds the value times this (MiB given, bytes kept). */
  scale?: number;
  /** A further rule: the error message, or undefined when `n` is fine. */
  check?: (n: number, source: string) => string | undefined;
}

/** A string, one of `choices` when they are given. */
export interface StringFlag extends FlagBase {
  kind: "string";
  default?: string | ((c: DefaultContext) => string);
  choices?: readonly string[];
  /** An empty value counts as not given (secrets: "" must not mean a blank one). */
  emptyIsUnset?: boolean;
  check?: (value: string, source: string) => string | undefined;
}

/** Repeatable; the variable holds a list split on `separator`. */
export interface ListFlag extends FlagBase {
  kind: "list";
  separator: ":" | ",";
  /** Given values replace this default (flags, else the variable); otherwise flags and variable add up. */
  default?: readonly string[];
}

/** A switch; the variable turns it on with 1, true or yes. */
export interface BoolFlag extends FlagBase {
  kind: "bool";
  default?: undefined;
}

/** One flag, declared once: its usage line, parser option, variable, default, checks and place in the Config. */
export type Flag = IntFlag | StringFlag | ListFlag | BoolFlag;

/** The type of a flag's resolved value, read from its entry: a flag without a default may be undefined. */
export type ValueOf<F> = F extends { kind: "bool" } ? boolean
  : F extends { kind: "list" } ? string[]
  : F extends { kind: "int" } ? (F extends { default: unknown } ? number : number | undefined)
  : F extends { choices: readonly (infer C)[] } ? C
  : F extends { default: unknown } ? string
  : string | undefined;
