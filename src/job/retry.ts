/**
 * Which failures are tried again, and when: one policy for job attempts
 * and callback deliveries alike, both waiting twice as long each time.
 *
 * @module
 */
import type { ImgserveError } from "../../protocol/error_codes.ts";

/** Callback deliveries tried before giving up. */
export const CALLBACK_ATTEMPTS = 5;

/**
 * The wait after the `failed`-th failed try (1 for the first) before the
 * next: `baseMs`, then twice that, and so on.
 *
 * @example
 * ```ts
 * backoffMs(1000, 3); // 4000
 * ```
 */
export function backoffMs(baseMs: number, failed: number): number {
  return baseMs * 2 ** (failed - 1);
}

/**
 * Whether a job whose `attempts`-th attempt failed with `error` is tried
 * again: only a passing failure (a peer unreachable, a worker lost), and
 * only while attempts are left.
 */
export function retriesJob(error: ImgserveError, attempts: number, maxAttempts: number): boolean {
  return error.transient && attempts < maxAttempts;
}

/**
 * Whether a callback whose `attempts`-th delivery failed is sent again:
 * any failure is, up to {@linkcode CALLBACK_ATTEMPTS} deliveries, since
 * the job itself is settled whatever the endpoint says.
 */
export function retriesCallback(attempts: number): boolean {
  return attempts < CALLBACK_ATTEMPTS;
}
