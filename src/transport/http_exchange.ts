/**
 * What HTTP reads and uploads share past the client: one request with its
 * redirects followed by hand (bounded, each hop checked by the network
 * guard), and one mapping from a status or a failure to an error code.
 *
 * @module
 */
import { ImgserveError } from "../../protocol/error_codes.ts";
import type { ErrorName } from "../../protocol/error_codes.ts";
import { connectionError, networkReason, type TransferOptions } from "./mod.ts";
import {
  guardedClient,
  headTooLarge,
  type idleSignal,
  innermostMessage,
  isTimeout,
  MAX_REDIRECTS,
} from "./http_client.ts";

/** Which end of a job a request serves: its codes differ. */
export type Side = "source" | "destination";

/** One request to send. */
export interface Outgoing {
  method: string;
  body?: Uint8Array<ArrayBuffer>;
  contentType?: string;
}

/**
 * Which answers carrying a Location are followed: every 3xx (a download),
 * the five the fetch standard follows (a form upload), or none (a PUT: a
 * pre-signed URL or WebDAV folder answers it itself).
 */
export type RedirectRule = "any" | "standard" | "none";

const STANDARD_REDIRECTS = [301, 302, 303, 307, 308];

function follows(rule: RedirectRule, status: number): boolean {
  if (rule === "any") return status >= 300 && status < 400;
  return rule === "standard" && STANDARD_REDIRECTS.includes(status);
}

/**
 * Sends one request, with redirects followed as a browser follows them
 * (301/302/303 turn a POST into a bodiless GET, 307/308 repeat it), every
 * hop checked by the network guard and restarting the idle timer. Returns
 * the first answer that is not a followed redirect, body unread.
 *
 * @example
 * ```ts
 * const { response, url } = await sendFollowing(new URL("http://h/a.png"), { method: "GET" },
 *   { options, idle, side: "source", redirects: "any" });
 * ```
 */
export async function sendFollowing(
  url: URL,
  request: Outgoing,
  { options, idle, side, redirects }: {
    options: TransferOptions;
    idle: ReturnType<typeof idleSignal>;
    side: Side;
    redirects: RedirectRule;
  },
): Promise<{ response: Response; url: URL }> {
  let current = url;
  let outgoing = request;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    idle.touch();
    const response = await fetch(current, {
      method: outgoing.method,
      body: outgoing.body,
      headers: outgoing.contentType ? { "content-type": outgoing.contentType } : {},
      redirect: "manual",
      signal: idle.signal,
      client: await guardedClient(current, options),
    });
    const location = response.headers.get("location");
    if (!location || !follows(redirects, response.status)) return { response, url: current };
    await response.body?.cancel();
    const next = new URL(location, current);
    if (next.protocol !== "http:" && next.protocol !== "https:") {
      throw new ImgserveError(refused(side), `${current} redirected to an unsupported scheme ${next.protocol}`);
    }
    const toGet = response.status === 303 || (response.status <= 302 && outgoing.method === "POST");
    if (toGet && outgoing.method !== "GET") outgoing = { method: "GET" };
    current = next;
  }
  throw new ImgserveError(refused(side), `${url} redirected more than ${MAX_REDIRECTS} times`);
}

function refused(side: Side): ErrorName {
  return side === "source" ? "SOURCE_REFUSED" : "DESTINATION_REFUSED";
}

/**
 * The code of an HTTP answer that is not a success: not found (a source's
 * 404 or 410), a server error (5xx, worth retrying), else refused.
 *
 * @example
 * ```ts
 * statusCode("source", 410); // "SOURCE_NOT_FOUND"
 * statusCode("destination", 503); // "DESTINATION_SERVER_ERROR"
 * ```
 */
export function statusCode(side: Side, status: number): ErrorName {
  if (side === "source" && (status === 404 || status === 410)) return "SOURCE_NOT_FOUND";
  if (status >= 500) return side === "source" ? "SOURCE_SERVER_ERROR" : "DESTINATION_SERVER_ERROR";
  return refused(side);
}

/**
 * The error for a request that failed before an answer: an ImgserveError
 * as it is, the caller's abort as its reason, a timeout, else a connection
 * that failed (see {@linkcode connectionError}).
 *
 * @example
 * ```ts
 * throw failureError(err, "destination", url, options.signal);
 * ```
 */
export function failureError(err: unknown, side: Side, url: URL, signal?: AbortSignal): ImgserveError {
  if (err instanceof ImgserveError) return err;
  const what = side === "source" ? "the download" : "the upload";
  if (signal?.aborted) {
    const reason = signal.reason;
    return reason instanceof ImgserveError ? reason : new ImgserveError(
      side === "source" ? "SOURCE_UNREACHABLE" : "DESTINATION_UNREACHABLE",
      `${what} of ${url} was aborted`,
      { cause: reason },
    );
  }
  const tooLarge = headTooLarge(err, side, `the ${side} ${url}`);
  if (tooLarge) return tooLarge;
  if (isTimeout(err)) {
    return new ImgserveError(
      side === "source" ? "SOURCE_TIMEOUT" : "DESTINATION_TIMEOUT",
      `${url} did not answer ${what} in time`,
    );
  }
  const verb = side === "source" ? "cannot fetch" : "cannot upload to";
  return connectionError(side, `${verb} ${url}: ${networkReason(innermostMessage(err))}`, err);
}
