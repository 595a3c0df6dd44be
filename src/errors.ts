/**
 * What the server does with errors beyond their codes (protocol/error_codes.ts):
 * wraps anything thrown into one, and words the JSON body a client gets.
 *
 * @module
 */
import { type ErrorName, ImgserveError } from "../protocol/error_codes.ts";

/**
 * Wraps anything thrown into an ImgserveError so callers handle one type;
 * unknown errors become `fallback` with their message kept.
 */
export function asImgserveError(
  err: unknown,
  fallback: ErrorName = "PROCESSING_FAILED",
): ImgserveError {
  if (err instanceof ImgserveError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new ImgserveError(fallback, message, { cause: err });
}

/** The JSON body of every error reply. */
export interface ErrorBody {
  /** "request invalid", "request parse error" or "internal error". */
  msg: string;
  /** The stable code; absent only when the request could not be read as HTTP at all. */
  code?: number;
  /** One sentence a person can act on. */
  error: string;
}

/** A request that could not be read as HTTP (its line or headers): it has a reason, but no code. */
export interface Unparsable {
  unparsable: string;
}

/**
 * The JSON body of every error reply: a refused request, a body or head
 * that cannot be parsed, or the server's own failure. The routes, the
 * listener and each connection all build their bodies here.
 *
 * @example
 * ```ts
 * errorBody(new ImgserveError("QUEUE_FULL", "try again shortly")); // { msg: "request invalid", code: 505, … }
 * errorBody({ unparsable: "a header line is malformed" }); // { msg: "request parse error", error: … }
 * ```
 */
export function errorBody(err: ImgserveError | Unparsable): ErrorBody {
  if (!(err instanceof ImgserveError)) return { msg: "request parse error", error: err.unparsable };
  const msg = err.name === "INTERNAL_ERROR"
    ? "internal error"
    : err.name === "BAD_JSON"
    ? "request parse error"
    : "request invalid";
  return { msg, code: err.code, error: err.message };
}

/** What a client is told of a failure no other code names (a bug); the server's log has the rest. */
export function internalError(): ImgserveError {
  return new ImgserveError("INTERNAL_ERROR", "the server failed unexpectedly; see its log");
}
