/**
 * Waiting for something a test cannot await directly (a job's state, a
 * connection count, a file appearing), always with a deadline, so that a
 * condition that never comes fails the test with a message instead of
 * hanging the suite.
 *
 * @module
 */

/** Options of {@linkcode pollUntil}. */
export interface PollOptions {
  /** How long to keep trying; default 10 s. */
  timeoutMs?: number;
  /** Pause between tries; default 20 ms. */
  intervalMs?: number;
  /** What was awaited, for the error; a function is called only on failure. */
  message?: string | (() => string);
  /** Count a `check` that throws as "not yet" (a server too loaded to answer); by default it fails at once. */
  retryErrors?: boolean;
}

/**
 * Calls `check` until it returns a value other than `undefined`, `null` or
 * `false`, and resolves with that value; throws once `timeoutMs` has passed.
 *
 * @example
 * ```ts
 * const job = await pollUntil(async () => {
 *   const json = await (await fetch(`${base}/jobs/${id}`)).json();
 *   return json.state === "done" && json;
 * }, { timeoutMs: 30_000, message: `job ${id} done` });
 * ```
 */
export async function pollUntil<T>(
  check: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  options: PollOptions = {},
): Promise<T> {
  const { timeoutMs = 10_000, intervalMs = 20, retryErrors = false } = options;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() <= deadline) {
    let value: T | undefined | null | false;
    try {
      value = await check();
    } catch (err) {
      if (!retryErrors) throw err;
      lastError = err;
    }
    if (value !== undefined && value !== null && value !== false) return value;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  const what = typeof options.message === "function" ? options.message() : options.message ?? "condition";
  const why = lastError === undefined ? "" : ` (last error: ${lastError})`;
  throw new Error(`${what} not reached within ${timeoutMs} ms${why}`);
}
