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

/**
 * The JSON body of a refused request, or of the server's own failure.
 *
 * @example
 * ```ts
 * errorBody(new ImgserveError("QUEUE_FULL", "try again shortly")); // { msg: "request invalid", code: 505, … }
 * ```
 */
export function errorBody(err: ImgserveError): { msg: string; code: number; error: string } {
  const msg = err.name === "INTERNAL_ERROR" ? "internal error" : "request invalid";
  return { msg, code: err.code, error: err.message };
}

/** What a client is told of a failure no other code names (a bug); the server's log has the rest. */
export function internalError(): ImgserveError {
  return new ImgserveError("INTERNAL_ERROR", "the server failed unexpectedly; see its log");
}
