/**
 * HTTP(S) destinations: PUT of the image bytes.
 *
 * @module
 */
import { ImgserveError } from "../job/errors.ts";
import type { WriteOptions } from "./mod.ts";
import { httpClientFor } from "./http_client.ts";

/** Uploads `bytes` to `url` with PUT. */
export async function uploadHttp(url: URL, bytes: Uint8Array<ArrayBuffer>, options: WriteOptions): Promise<void> {
  await options.guard.resolve(url.hostname);
  let response: Response;
  try {
    response = await fetch(url, {
      method: "PUT",
      body: bytes,
      headers: { "content-type": options.contentType },
      signal: AbortSignal.timeout(options.timeoutMs),
      client: httpClientFor(options.caCerts),
    });
  } catch (err) {
    throw new ImgserveError("DESTINATION_UNREACHABLE", `cannot upload to ${url}: ${(err as Error).message}`);
  }
  await response.body?.cancel();
  if (!response.ok) {
    throw new ImgserveError(
      response.status >= 500 ? "DESTINATION_SERVER_ERROR" : "DESTINATION_REFUSED",
      `${url} answered ${response.status} to the upload`,
    );
  }
}
