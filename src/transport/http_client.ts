/**
 * What HTTP downloads and uploads share: one `fetch` client per set of
 * extra CA roots, and an idle-timeout signal.
 *
 * @module
 */

/** Redirects followed before giving up, as browsers roughly do. */
export const MAX_REDIRECTS = 10;

const clients = new Map<string, Deno.HttpClient>();

/** One HTTP client per set of extra CA roots, kept for connection reuse. */
export function httpClientFor(caCerts: string[]): Deno.HttpClient | undefined {
  if (caCerts.length === 0) return undefined;
  const key = caCerts.join("\n");
  let client = clients.get(key);
  if (!client) {
    client = Deno.createHttpClient({ caCerts });
    clients.set(key, client);
  }
  return client;
}

/** Closes the cached HTTP clients (tests, shutdown). */
export function closeHttpClients(): void {
  for (const client of clients.values()) client.close();
  clients.clear();
}

/** A signal that fires on the caller's abort or after `ms` without progress. */
export function idleSignal(
  ms: number,
  outer?: AbortSignal,
): { signal: AbortSignal; touch: () => void; done: () => void } {
  const controller = new AbortController();
  let timer = setTimeout(() => controller.abort(new DOMException("timed out", "TimeoutError")), ms);
  const onAbort = () => controller.abort(outer?.reason);
  outer?.addEventListener("abort", onAbort, { once: true });
  return {
    signal: controller.signal,
    touch() {
      clearTimeout(timer);
      timer = setTimeout(() => controller.abort(new DOMException("timed out", "TimeoutError")), ms);
    },
    done() {
      clearTimeout(timer);
      outer?.removeEventListener("abort", onAbort);
    },
  };
}

/** Whether an error came from a timeout. */
export function isTimeout(err: unknown): boolean {
  return err instanceof DOMException && err.name === "TimeoutError";
}

/** fetch says only "fetch failed"; the reason (refused, bad certificate) is in its cause. */
export function innermostMessage(err: unknown): string {
  let at = err;
  while (at instanceof Error && at.cause instanceof Error) at = at.cause;
  return at instanceof Error ? at.message : String(at);
}
