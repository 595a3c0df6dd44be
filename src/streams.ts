/**
 * Reading streams with a bound: every read of a body or a download has a
 * limit, checked before more is kept.
 *
 * @module
 */

import { concat } from "../shared/bytes.ts";

/** Options for {@linkcode readAtMost}. */
export interface ReadAtMostOptions {
  /** Chunks already read from the same stream; they count towards the limit. */
  prefix?: readonly Uint8Array[];
  /** Called after each chunk arrives (to keep an idle timer alive, say). */
  onChunk?: (chunk: Uint8Array) => void;
}

/**
 * Reads a whole stream into one buffer, or resolves `undefined` once more
 * than `maxBytes` arrived; the stream is then cancelled, so nothing more is
 * downloaded. A read error cancels it too and is thrown on.
 *
 * @example
 * ```ts
 * const bytes = await readAtMost(response.body!, 1024);
 * if (!bytes) throw new Error("over 1 KiB");
 * ```
 */
export async function readAtMost(
  stream: ReadableStream<Uint8Array>,
  maxBytes: number,
  options: ReadAtMostOptions = {},
): Promise<Uint8Array | undefined> {
  const chunks = [...options.prefix ?? []];
  let size = chunks.reduce((n, c) => n + c.byteLength, 0);
  const reader = stream.getReader();
  let finished = false;
  try {
    while (size <= maxBytes) {
      const { done, value } = await reader.read();
      if (done) {
        finished = true;
        break;
      }
      options.onChunk?.(value);
      size += value.byteLength;
      chunks.push(value);
    }
  } finally {
    if (!finished) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
  if (size > maxBytes) return undefined;
  // One chunk is already the whole stream: no copy, which matters for large sources.
  return chunks.length === 1 ? chunks[0] : concat(chunks, size);
}
