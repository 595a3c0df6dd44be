/**
 * `http://` and `https://` sources with `fetch`, and the HTTP(S) transport
 * that pairs them with uploads (http_upload.ts). Redirects and error codes
 * are http_exchange.ts's, shared with uploads.
 *
 * @module
 */
import { ImgserveError } from "../../protocol/error_codes.ts";
import { checkDeclaredSize, connectionError, type TransferOptions, type Transport } from "./mod.ts";
import { formFieldOf, uploadHttp } from "./http_upload.ts";
import { idleSignal, innermostMessage, isTimeout } from "./http_client.ts";
import { failureError, sendFollowing, statusCode } from "./http_exchange.ts";

async function readHttp(url: URL, options: TransferOptions): Promise<ReadableStream<Uint8Array>> {
  const idle = idleSignal(options.timeoutMs, options.signal);
  try {
    const { response, url: at } = await sendFollowing(url, { method: "GET" }, {
      options,
      idle,
      side: "source",
      redirects: "any",
    });
    if (!response.ok || !response.body) {
      await response.body?.cancel();
      const status = response.status;
      const code = statusCode("source", status);
      throw new ImgserveError(code, `${at} answered ${status}${code === "SOURCE_NOT_FOUND" ? ": not found" : ""}`);
    }
    const length = response.headers.get("content-length");
    try {
      checkDeclaredSize(length === null ? undefined : Number(length), options);
    } catch (err) {
      await response.body.cancel();
      throw err;
    }
    return watchBody(response.body, idle);
  } catch (err) {
    idle.done();
    throw failureError(err, "source", url, options.signal);
  }
}

/** Passes the body through, restarting the idle timer on every chunk. */
function watchBody(body: ReadableStream<Uint8Array>, idle: ReturnType<typeof idleSignal>): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) {
          idle.done();
          controller.close();
          return;
        }
        idle.touch();
        controller.enqueue(value);
      } catch (err) {
        idle.done();
        controller.error(
          isTimeout(err) || idle.signal.aborted
            ? new ImgserveError("SOURCE_TIMEOUT", "the source stopped sending data")
            : connectionError("source", `the source connection failed: ${innermostMessage(err)}`, err),
        );
      }
    },
    async cancel(reason) {
      idle.done();
      await reader.cancel(reason);
    },
  });
}

/**
 * The HTTP(S) transport: reads with GET, uploads with PUT or through an
 * upload form (see http_upload.ts).
 *
 * @example
 * ```ts
 * const stream = await httpTransport().read(new URL("https://h/a.png"), options);
 * ```
 */
export const httpTransport = (): Transport => ({
  read: readHttp,
  write: (url, bytes, options) => uploadHttp(url, bytes, { ...options, fieldName: formFieldOf(options.jobArgs) }),
});
