/**
 * Releasing resources on paths where they may already be gone.
 *
 * @module
 */

/**
 * Closes a connection, file or listener that may already be closed (by the
 * peer, a timer, or a TLS upgrade that took it over): on a cleanup path
 * that is no error.
 *
 * @example
 * ```ts
 * closeQuietly(conn);
 * closeQuietly(conn); // the second close does nothing
 * ```
 */
export function closeQuietly(resource: { close(): void }): void {
  try {
    resource.close();
  } catch {
    // Already closed.
  }
}
