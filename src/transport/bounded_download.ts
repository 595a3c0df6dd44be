/**
 * Time bounds around a whole source download, whatever its protocol: an
 * idle limit while we wait for bytes, and a total deadline from the first
 * connection to the last byte. Either one cancels the transport's stream
 * (closing its connections) and fails the read with SOURCE_TIMEOUT, which
 * is transient, so a stalled source costs one attempt and frees its slot.
 *
 * @module
 */
import { ImgserveError } from "../../protocol/error_codes.ts";

/** The two bounds, ms. */
export interface DownloadBounds {
  /** Longest wait for the reply or for the next bytes. */
  idleMs: number;
  /** Longest the whole download may take. */
  totalMs: number;
  /** Aborts the download early (shutdown). */
  signal?: AbortSignal;
}

/**
 * Opens a source with `open` (which gets a signal that fires at the total
 * deadline) and returns its stream, bounded by `bounds`.
 *
 * @example
 * ```ts
 * const stream = await boundedDownload((signal) => transport.read(url, { ...options, signal }), bounds);
 * ```
 */
export async function boundedDownload(
  open: (signal: AbortSignal) => Promise<ReadableStream<Uint8Array>>,
  bounds: DownloadBounds,
): Promise<ReadableStream<Uint8Array>> {
  const total = new AbortController();
  const timer = setTimeout(
    () => total.abort(timeoutError(`the source took longer than ${bounds.totalMs} ms to download`)),
    bounds.totalMs,
  );
  const signal = bounds.signal ? AbortSignal.any([bounds.signal, total.signal]) : total.signal;
  let stream: ReadableStream<Uint8Array>;
  try {
    const opening = open(signal);
    stream = await firstOf(opening, signal, bounds.idleMs, "the source did not answer");
  } catch (err) {
    clearTimeout(timer);
    throw err;
  }
  const reader = stream.getReader();
  const finish = () => {
    clearTimeout(timer);
    reader.cancel().catch(() => {});
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await firstOf(reader.read(), signal, bounds.idleMs, "the source stopped sending data");
        if (done) {
          clearTimeout(timer);
          controller.close();
        } else controller.enqueue(value);
      } catch (err) {
        finish();
        controller.error(err);
      }
    },
    cancel() {
      finish();
    },
  }, { highWaterMark: 0 });
}

/**
 * `work`, unless the idle limit or `signal` comes first. A stream that
 * arrives after we gave up is cancelled, so its connection is closed.
 */
async function firstOf<T>(work: Promise<T>, signal: AbortSignal, idleMs: number, idleMessage: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  const expired = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    timer = setTimeout(() => reject(timeoutError(`${idleMessage} for ${idleMs} ms`)), idleMs);
  });
  try {
    return await Promise.race([work, expired]);
  } catch (err) {
    work.then((late) => {
      if (late instanceof ReadableStream) late.cancel().catch(() => {});
    }, () => {});
    throw err;
  } finally {
    clearTimeout(timer);
    signal.removeEventListener("abort", onAbort!);
  }
}

function timeoutError(message: string): ImgserveError {
  return new ImgserveError("SOURCE_TIMEOUT", message);
}
