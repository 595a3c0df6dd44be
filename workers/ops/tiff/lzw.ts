/**
 * TIFF's LZW (compression 5): MSB-first codes of 9 to 12 bits, 256 to clear
 * the table, 257 to end, the code width growing one code early as libtiff
 * writes it. The table is flat typed arrays (a code's prefix code, last
 * byte, first byte and length), and a code's string is written straight
 * into the output from its end back, so nothing is allocated per code.
 *
 * @module
 */

const CLEAR = 256;
const END = 257;
const TABLE = 4096;

/** Corrupt LZW data: a code that is not in the table. */
export class LzwError extends Error {}

/**
 * Decodes `src` into `out`, stopping when `out` is full (a bomb stops at the
 * size the strip's rows need); returns the bytes written. Throws
 * {@linkcode LzwError} on corrupt data, having written what came before.
 *
 * @example
 * ```ts
 * const written = decodeLzw(strip, new Uint8Array(rowBytes * rows));
 * ```
 */
export function decodeLzw(src: Uint8Array, out: Uint8Array): number {
  if (src.length >= 2 && src[0] === 0 && (src[1] & 1) === 1) {
    throw new LzwError("it uses the old LSB-first LZW of early libtiff versions");
  }
  const prefix = new Uint16Array(TABLE);
  const last = new Uint8Array(TABLE);
  const first = new Uint8Array(TABLE);
  const length = new Uint16Array(TABLE);
  for (let i = 0; i < 256; i++) {
    last[i] = i;
    first[i] = i;
    length[i] = 1;
  }
  const end = out.length;
  const srcEnd = src.length;
  let bits = 0, held = 0, at = 0, o = 0;
  let width = 9, next = 258, old = -1;
  while (o < end) {
    while (held < width) {
      if (at >= srcEnd) return o;
      bits = ((bits << 8) | src[at++]) & 0xffffff;
      held += 8;
    }
    held -= width;
    const code = (bits >>> held) & ((1 << width) - 1);
    if (code === END) break;
    if (code === CLEAR) {
      width = 9;
      next = 258;
      old = -1;
      continue;
    }
    if (old === -1) {
      if (code > 255) throw new LzwError(`code ${code} right after a clear`);
      out[o++] = code;
      old = code;
      continue;
    }
    if (code > next || code === next && next >= TABLE) throw new LzwError(`code ${code} is not in the table`);
    if (next < TABLE) {
      prefix[next] = old;
      last[next] = code === next ? first[old] : first[code];
      first[next] = first[old];
      length[next] = length[old] + 1;
      next++;
      if (next === 511) width = 10;
      else if (next === 1023) width = 11;
      else if (next === 2047) width = 12;
    }
    // Written from its end back; the bytes past `out` are skipped.
    const len = length[code];
    let c = code;
    if (o + len <= end) {
      for (let i = o + len - 1; i >= o; i--) {
        out[i] = last[c];
        c = prefix[c];
      }
      o += len;
    } else {
      for (let i = o + len - 1; i >= o; i--) {
        if (i < end) out[i] = last[c];
        c = prefix[c];
      }
      o = end;
    }
    old = code;
  }
  return o;
}
