/**
 * PackBits (TIFF compression 32773): runs of one byte and literal spans,
 * each led by a count byte.
 *
 * @module
 */

/**
 * Decodes `src` into `out`, stopping when `out` is full; returns the bytes
 * written (fewer when the data ends first).
 *
 * @example
 * ```ts
 * decodePackBits(new Uint8Array([0xfe, 7]), new Uint8Array(3)); // 3: 7, 7, 7
 * ```
 */
export function decodePackBits(src: Uint8Array, out: Uint8Array): number {
  const end = out.length;
  let at = 0, o = 0;
  while (at < src.length && o < end) {
    const n = src[at++];
    if (n < 128) {
      const count = Math.min(n + 1, src.length - at, end - o);
      out.set(src.subarray(at, at + count), o);
      at += n + 1;
      o += count;
    } else if (n > 128) {
      if (at >= src.length) break;
      const count = Math.min(257 - n, end - o);
      out.fill(src[at++], o, o + count);
      o += count;
    }
  }
  return o;
}
