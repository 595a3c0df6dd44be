/**
 * `Idempotency-Key` on `POST /`: a request sent again with the same key
 * and body gets the first reply and creates nothing; with another body it
 * is refused. The key is bound in the journal atomically, so of
 * simultaneous requests one runs and the others wait for its reply.
 *
 * @module
 */
import { ImgserveError } from "../../protocol/error_codes.ts";
import type { Journal, KeptReply } from "../journal/mod.ts";

/** How long a repeat waits for the first request's reply before it is told to try again. */
const WAIT_MS = 10_000;
const POLL_MS = 50;

/** A key as Stripe takes them: 1 to 255 visible ASCII characters. */
function checkKey(key: string): void {
  if (!/^[\x21-\x7e]{1,255}$/.test(key)) {
    throw new ImgserveError("BAD_PARAMETER", "Idempotency-Key must be 1 to 255 visible ASCII characters");
  }
}

async function digestOf(body: string): Promise<string> {
  const hash = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(body));
  return Array.from(new Uint8Array(hash), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/**
 * Runs `submit` once per key and body within `ttlMs`: its 202 is kept and
 * answers every repeat (with `Idempotent-Replayed: true`); a refusal frees
 * the key, so the request may be sent again.
 *
 * @example
 * ```ts
 * return await idempotent(journal, key, body, 86_400_000, () => submitJob(body));
 * ```
 */
export async function idempotent(
  journal: Journal,
  key: string,
  body: string,
  ttlMs: number,
  submit: () => Promise<Response>,
): Promise<Response> {
  checkKey(key);
  const digest = await digestOf(body);
  const until = Date.now() + WAIT_MS;
  while (true) {
    const bound = await journal.reserveKey(key, digest, ttlMs);
    if (!bound) return await run(journal, key, submit);
    if (bound.digest !== digest) {
      throw new ImgserveError("IDEMPOTENCY_MISMATCH", "this Idempotency-Key was sent with another body; use a new key");
    }
    if (bound.reply) return replay(bound.reply);
    if (Date.now() > until) {
      throw new ImgserveError(
        "IDEMPOTENCY_IN_PROGRESS",
        "the first request with this Idempotency-Key is still running",
      );
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

async function run(journal: Journal, key: string, submit: () => Promise<Response>): Promise<Response> {
  let response: Response;
  try {
    response = await submit();
  } catch (err) {
    await journal.releaseKey(key).catch(() => {});
    throw err;
  }
  if (response.status !== 202) {
    await journal.releaseKey(key).catch(() => {});
    return response;
  }
  const reply: KeptReply = {
    status: response.status,
    body: await response.clone().json(),
    location: response.headers.get("location") ?? undefined,
  };
  await journal.completeKey(key, reply);
  return response;
}

function replay(reply: KeptReply): Response {
  const headers = new Headers({ "content-type": "application/json", "idempotent-replayed": "true" });
  if (reply.location) headers.set("location", reply.location);
  return new Response(JSON.stringify(reply.body), { status: reply.status, headers });
}
