/**
 * Telling the client: a POST of the job's outcome to its callbackURL,
 * under the same network rules as any destination.
 *
 * @module
 */
import { ImgserveError } from "./errors.ts";
import type { JobRecord } from "./journal.ts";
import type { TransferOptions } from "../transport/mod.ts";
import { guardedClient } from "../transport/http_client.ts";

/** The body a callback receives. */
export function callbackBody(record: JobRecord): Record<string, unknown> {
  return {
    id: record.id,
    state: record.state,
    dstURL: record.dstURL,
    ...(record.error ? { error: record.error.message, code: record.error.code } : {}),
    width: record.width,
    height: record.height,
  };
}

/** POSTs the outcome; throws unless the endpoint answers 2xx. */
export async function sendCallback(url: URL, record: JobRecord, options: TransferOptions): Promise<void> {
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ImgserveError("UNSUPPORTED_SCHEME", `callbackURL must be http(s), not ${url.protocol}`);
  }
  const client = await guardedClient(url, options);
  let response: Response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(callbackBody(record)),
      redirect: "error",
      signal: AbortSignal.timeout(options.timeoutMs),
      client,
    });
  } catch (err) {
    throw new ImgserveError("DESTINATION_UNREACHABLE", `callback to ${url} failed: ${(err as Error).message}`);
  }
  await response.body?.cancel();
  if (!response.ok) {
    throw new ImgserveError("DESTINATION_REFUSED", `callback to ${url} answered ${response.status}`);
  }
}
