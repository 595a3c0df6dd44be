/**
 * `http://` and `https://` sources with `fetch`: redirects followed by hand
 * (bounded, each hop checked by the network guard), errors mapped to codes.
 * Uploads live in http_upload.ts.
 *
 * @module
 */
import { ImgserveError } from "../errors.ts";
import { checkDeclaredSize, connectionError, type TransferOptions, type Transport } from "./mod.ts";
import { uploadHttp } from "./http_upload.ts";
import { guardedClient, idleSignal, innermostMessage, isTimeout, MAX_REDIRECTS } from "./http_client.ts";

async function readHttp(url: URL, options: TransferOptions): Promise<ReadableStream<Uint8Array>> {
  const idle = idleSignal(options.timeoutMs, options.signal);
  let current = url;
  try {
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      const response = await fetch(current, {
        redirect: "manual",
        signal: idle.signal,
        client: await guardedClient(current, options),
      });
      const location = response.headers.get("location");
      if (response.status >= 300 && response.status < 400 && location) {
        await response.body?.cancel();
        current = new URL(location, current);
        if (current.protocol !== "http:" && current.protocol !== "https:") {
          throw new ImgserveError(
            "SOURCE_REFUSED",
            `the source redirected to an unsupported scheme ${current.protocol}`,
          );
        }
        idle.touch();
        continue;
      }
      if (!response.ok || !response.body) {
        await response.body?.cancel();
        throw statusError(response.status, current);
      }
      const length = response.headers.get("content-length");
      try {
        checkDeclaredSize(length === null ? undefined : Number(length), options);
      } catch (err) {
        await response.body.cancel();
        throw err;
      }
      return watchBody(response.body, idle);
    }
    throw new ImgserveError("SOURCE_REFUSED", `the source redirected more than ${MAX_REDIRECTS} times`);
  } catch (err) {
    idle.done();
    throw mapError(err, url);
  }
}

function statusError(status: number, url: URL): ImgserveError {
  if (status === 404 || status === 410) {
    return new ImgserveError("SOURCE_NOT_FOUND", `${url} answered ${status}: not found`);
  }
  if (status >= 500) return new ImgserveError("SOURCE_SERVER_ERROR", `${url} answered ${status}`);
  return new ImgserveError("SOURCE_REFUSED", `${url} answered ${status}`);
}

function mapError(err: unknown, url: URL): ImgserveError {
  if (err instanceof ImgserveError) return err;
  if (isTimeout(err)) return new ImgserveError("SOURCE_TIMEOUT", `${url} did not answer in time`);
  return connectionError("source", `cannot fetch ${url}: ${innermostMessage(err)}`, err);
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

/** The HTTP(S) transport. */
export const httpTransport: Transport = {
  read: readHttp,
  write: uploadHttp,
};
