/**
 * Byte-array helpers shared across the server and the workers.
 *
 * @module
 */

/**
 * Joins byte arrays (or plain arrays of byte values) into one new buffer;
 * `size`, when the caller already counted it, saves summing the lengths again.
 *
 * @example
 * ```ts
 * concat([new Uint8Array([1, 2]), new Uint8Array([3])]); // Uint8Array [1, 2, 3]
 * ```
 */
export function concat(chunks: readonly ArrayLike<number>[], size?: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(size ?? chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/**
 * The bytes as a buffer of their own, to transfer to another thread: the
 * view's buffer when the view covers all of it, else a copy.
 *
 * @example
 * ```ts
 * worker.postMessage(bytes, [ownBuffer(bytes)]);
 * ```
 */
export function ownBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
    ? bytes.buffer as ArrayBuffer
    : bytes.slice().buffer;
}
