/**
 * Telling the client: a POST of the job's outcome to its callbackURL,
 * under the same network rules as any destination, signed the Standard
 * Webhooks way when the operator gave a secret; a delivery that fails is
 * journaled to be tried again later (see retry.ts), by whichever server
 * picks it up.
 *
 * @module
 */
import { ImgserveError } from "../../protocol/error_codes.ts";
import type { JobRecord } from "../journal/mod.ts";
import { callbackBody } from "./status.ts";
import type { TransferOptions } from "../transport/mod.ts";
import { guardedClient, headTooLarge, innermostMessage } from "../transport/http_client.ts";
import { type JobContext, transferOptions } from "./context.ts";
import { backoffMs, retriesCallback } from "./retry.ts";

/**
 * The Standard Webhooks headers for one delivery attempt: the signature is
 * HMAC-SHA256, keyed with the secret's base64 part, over `id.timestamp.body`.
 *
 * @example
 * ```ts
 * const headers = await webhookHeaders("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "job-1", "{}");
 * ```
 */
export async function webhookHeaders(
  secret: string,
  id: string,
  body: string,
  now = Date.now(),
): Promise<Record<string, string>> {
  const timestamp = String(Math.floor(now / 1000));
  const key = await crypto.subtle.importKey(
    "raw",
    Uint8Array.fromBase64(secret.replace(/^whsec_/, "")),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`${id}.${timestamp}.${body}`));
  return {
    "webhook-id": id,
    "webhook-timestamp": timestamp,
    "webhook-signature": `v1,${new Uint8Array(mac).toBase64()}`,
  };
}

/**
 * POSTs the outcome; throws unless the endpoint answers 2xx. With `secret`,
 * every attempt is signed anew under the same webhook-id (the job's id), so
 * a receiver can drop a delivery it has already taken.
 */
export async function sendCallback(
  url: URL,
  record: JobRecord,
  options: TransferOptions,
  secret?: string,
): Promise<void> {
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ImgserveError("UNSUPPORTED_SCHEME", `callbackURL must be http(s), not ${url.protocol}`);
  }
  const client = await guardedClient(url, options);
  const body = JSON.stringify(callbackBody(record));
  const signature = secret ? await webhookHeaders(secret, record.id, body) : {};
  let response: Response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", ...signature },
      body,
      redirect: "error",
      signal: AbortSignal.timeout(options.timeoutMs),
      client,
    });
  } catch (err) {
    throw headTooLarge(err, "destination", `the callback receiver ${url}`) ??
      new ImgserveError("DESTINATION_UNREACHABLE", `callback to ${url} failed: ${innermostMessage(err)}`);
  }
  await response.body?.cancel();
  if (!response.ok) {
    throw new ImgserveError("DESTINATION_REFUSED", `callback to ${url} answered ${response.status}`);
  }
}

/**
 * One delivery attempt of a finished job's pending callback, holding the
 * job's lease meanwhile; a failure is journaled with the time of the next
 * attempt, or as given up once the attempts are spent.
 */
export async function deliverCallback(ctx: JobContext, record: JobRecord): Promise<void> {
  const { journal, config, scheduler } = ctx;
  const attempts = record.callback!.attempts + 1;
  const stopBeating = scheduler.heartbeat(record.id);
  try {
    await sendCallback(new URL(record.request.callbackURL!), record, transferOptions(ctx), config.callbackSecret);
    await journal.update(record.id, scheduler.owner, { callback: { pending: false, attempts } });
  } catch (err) {
    const message = err instanceof ImgserveError ? `${err.message} (code ${err.code})` : (err as Error).message;
    ctx.log?.(`job ${record.id}: callback attempt ${attempts} failed: ${message}`);
    await journal.update(record.id, scheduler.owner, {
      callback: {
        pending: retriesCallback(attempts),
        attempts,
        lastError: message,
        nextAt: Date.now() + backoffMs(config.jobs.retryBaseMs, attempts),
      },
      owner: undefined,
      leaseUntil: undefined,
    });
  } finally {
    stopBeating();
  }
}
