/**
 * A job's `args.s3`: the Cache-Control and user metadata of the objects it
 * writes. Checked at validation, so a bad value is a 400 before anything
 * is written, never an S3 refusal after the placeholder. S3 allows 2 KB
 * of user metadata per object; the header values must be plain ASCII.
 *
 * @module
 */
import { ImgserveError } from "../../../protocol/error_codes.ts";

/** What a job may say of the S3 objects it writes. */
export interface S3ObjectArgs {
  cacheControl?: string;
  metadata?: Record<string, string>;
}

/** S3's limit on the user metadata of one object (names and values, UTF-8 bytes). */
export const MAX_METADATA_BYTES = 2048;

/** Longest Cache-Control accepted. */
const MAX_CACHE_CONTROL = 256;

// Printable ASCII: HTTP header values S3 stores and returns unchanged.
const HEADER_TEXT = /^[\x20-\x7e]*$/;
const METADATA_NAME = /^[a-z0-9][a-z0-9-]{0,63}$/;

/**
 * Why `value` cannot be a Cache-Control, or undefined when it can.
 *
 * @example
 * ```ts
 * cacheControlProblem("public, max-age=31536000"); // undefined
 * ```
 */
export function cacheControlProblem(value: string): string | undefined {
  if (value === "" || value.length > MAX_CACHE_CONTROL) return `must be 1 to ${MAX_CACHE_CONTROL} characters`;
  if (!HEADER_TEXT.test(value)) return "must be printable ASCII";
  return undefined;
}

/**
 * Parses `args.s3` of output `where` (e.g. "args.s3"); undefined when absent.
 *
 * @example
 * ```ts
 * parseS3Args({ cacheControl: "max-age=60", metadata: { owner: "shop" } }, "args.s3");
 * ```
 */
export function parseS3Args(value: unknown, where: string): S3ObjectArgs | undefined {
  if (value === undefined || value === null) return undefined;
  const bad = (why: string) => new ImgserveError("BAD_ARGS", `${where}${why}`);
  if (typeof value !== "object" || Array.isArray(value)) throw bad(" must be an object: {cacheControl, metadata}");
  const { cacheControl, metadata, ...rest } = value as Record<string, unknown>;
  const unknown = Object.keys(rest)[0];
  if (unknown !== undefined) throw bad(`.${unknown.slice(0, 40)} is not known; known are cacheControl, metadata`);
  const out: S3ObjectArgs = {};
  if (cacheControl !== undefined) {
    if (typeof cacheControl !== "string") throw bad(".cacheControl must be a string");
    const problem = cacheControlProblem(cacheControl);
    if (problem) throw bad(`.cacheControl ${problem}`);
    out.cacheControl = cacheControl;
  }
  if (metadata !== undefined) {
    if (typeof metadata !== "object" || metadata === null || Array.isArray(metadata)) {
      throw bad(".metadata must be an object of names to strings");
    }
    let bytes = 0;
    out.metadata = {};
    for (const [name, text] of Object.entries(metadata)) {
      if (!METADATA_NAME.test(name)) {
        throw bad(`.metadata name "${name.slice(0, 40)}" must be 1-64 of a-z, 0-9 and -`);
      }
      if (typeof text !== "string" || !HEADER_TEXT.test(text)) {
        throw bad(`.metadata.${name} must be a string of printable ASCII`);
      }
      bytes += name.length + text.length;
      if (bytes > MAX_METADATA_BYTES) throw bad(`.metadata is over S3's ${MAX_METADATA_BYTES} bytes`);
      out.metadata[name] = text;
    }
  }
  return out;
}

/**
 * The `args.s3` a job passed through to a write, if any (the job carries
 * args unread; see WriteOptions.jobArgs).
 */
export function s3ArgsOf(jobArgs: object | undefined): S3ObjectArgs | undefined {
  return jobArgs && "s3" in jobArgs && typeof jobArgs.s3 === "object" && jobArgs.s3 !== null
    ? jobArgs.s3 as S3ObjectArgs
    : undefined;
}
