/**
 * What HTTP downloads and uploads share: one `fetch` client per set of
 * extra CA roots, and an idle-timeout signal.
 *
 * @module
 */

import { ImgserveError } from "../../protocol/error_codes.ts";
import type { TransferOptions } from "./mod.ts";
import { type PinProxy, startPinProxy } from "./pin_proxy.ts";

/** Redirects followed before giving up, as browsers roughly do. */
export const MAX_REDIRECTS = 10;

const clients = new Map<string, Deno.HttpClient>();
/** Clients kept for connection reuse; the oldest is closed past this. */
const MAX_CLIENTS = 64;

function clientFor(key: string, options: Deno.CreateHttpClientOptions): Deno.HttpClient {
  let client = clients.get(key);
  if (!client) {
    client = Deno.createHttpClient(options);
    clients.set(key, client);
    if (clients.size > MAX_CLIENTS) {
      const [oldest, old] = clients.entries().next().value!;
      clients.delete(oldest);
      old.close();
    }
  }
  return client;
}

let proxy: PinProxy | undefined;

/**
 * The `fetch` client for one request: the network guard resolves and
 * checks the URL's host, and the connection goes to that very address, so
 * a name that resolves differently a moment later (DNS rebinding) cannot
 * redirect it. Plain HTTP connects to the address directly (a "tcp"
 * transport); HTTPS tunnels through our CONNECT proxy, keeping TLS end to
 * end with the URL's host name. Extra CA roots come from `options.caCerts`.
 */
export async function guardedClient(url: URL, options: TransferOptions): Promise<Deno.HttpClient | undefined> {
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const address = await options.guard.resolve(host);
  const caKey = options.caCerts.join("\n");
  const caCerts = options.caCerts.length > 0 ? options.caCerts : undefined;
  if (address === host) return caCerts ? clientFor(`*|${caKey}`, { caCerts }) : undefined;
  if (url.protocol === "https:") {
    proxy ??= startPinProxy();
    return clientFor(`tls|${address}|${caKey}`, {
      caCerts,
      proxy: { url: proxy.url, basicAuth: proxy.credentials(address) },
    });
  }
  const port = Number(url.port || 80);
  return clientFor(`${address}|${port}|${caKey}`, { caCerts, proxy: { transport: "tcp", hostname: address, port } });
}

/** Closes the cached HTTP clients and the proxy (tests, shutdown). */
export async function closeHttpClients(): Promise<void> {
  for (const client of clients.values()) client.close();
  clients.clear();
  const closing = proxy;
  proxy = undefined;
  await closing?.close();
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

/**
 * What `fetch` says when a response head outgrows its client's buffer:
 * hyper's 408 KiB (8 KiB + 100 x 4 KiB) on HTTP/1.1, the h2 library's
 * header-list and CONTINUATION-frame limits on HTTP/2. Neither can be set
 * through `Deno.createHttpClient`, so these are the caps we rely on.
 */
const HEAD_TOO_LARGE = /message head is too large|too_many_continuations|header list size/i;

/** The response-head cap on HTTP/1.1, for messages: hyper's read buffer. */
const MAX_RESPONSE_HEAD_BYTES = 8192 + 4096 * 100;

/**
 * The error for a response head over the client's cap (SOURCE_HEAD_TOO_LARGE
 * or DESTINATION_HEAD_TOO_LARGE, never retried: the server sends the same
 * head again), or undefined when `err` is something else. `who` names the
 * server in the message.
 *
 * @example
 * ```ts
 * throw headTooLarge(err, "source", `the source ${url}`) ?? err;
 * ```
 */
export function headTooLarge(err: unknown, side: "source" | "destination", who: string): ImgserveError | undefined {
  if (!HEAD_TOO_LARGE.test(innermostMessage(err))) return undefined;
  return new ImgserveError(
    side === "source" ? "SOURCE_HEAD_TOO_LARGE" : "DESTINATION_HEAD_TOO_LARGE",
    `${who} sent a response head over ${MAX_RESPONSE_HEAD_BYTES} bytes (or over HTTP/2's header-list limit); refused`,
    { cause: err },
  );
}
