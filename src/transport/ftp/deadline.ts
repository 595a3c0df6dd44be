/**
 * Time and abort limits around one socket operation. When the limit fires,
 * the caller's `onFire` closes the sockets, which makes the pending
 * operation settle; we wait for that so no op outlives the transfer.
 *
 * @module
 */
import { ImgserveError } from "../../../protocol/error_codes.ts";

/** What bounds an operation: a time limit and an optional abort signal. */
export interface OperationLimits {
  /** Milliseconds the operation may take. */
  timeoutMs: number;
  /** Aborts the operation early. */
  signal?: AbortSignal;
}

/**
 * Resolves like `work`, unless `limits` fire first: then `onFire` runs (it
 * should close whatever `work` waits on), `work` is awaited to its end, and
 * the result is FTP_TIMEOUT or the signal's reason.
 *
 * @example
 * ```ts
 * const n = await withinLimits(conn.read(buf), { timeoutMs: 5000 }, "reading", () => conn.close());
 * ```
 */
export async function withinLimits<T>(
  work: Promise<T>,
  limits: OperationLimits,
  what: string,
  onFire: () => void,
): Promise<T> {
  const { timeoutMs, signal } = limits;
  let fired: unknown;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  const stop = new Promise<never>((_, reject) => {
    const fire = (reason: unknown) => {
      if (fired !== undefined) return;
      fired = reason;
      try {
        onFire();
      } finally {
        reject(reason);
      }
    };
    if (signal?.aborted) return fire(abortReason(signal));
    onAbort = () => fire(abortReason(signal!));
    signal?.addEventListener("abort", onAbort, { once: true });
    timer = setTimeout(
      () =>
        fire(
          new ImgserveError(
            "FTP_TIMEOUT",
            `FTP timed out after ${timeoutMs} ms ${what}`,
          ),
        ),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([work, stop]);
  } catch (err) {
    if (fired === undefined) throw err;
    await work.catch(() => {});
    throw fired;
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener("abort", onAbort);
  }
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ??
    new DOMException("The transfer was aborted", "AbortError");
}
