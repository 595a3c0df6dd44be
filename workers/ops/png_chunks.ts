/**
 * A PNG's chunks, walked without inflating any of them, and the PNG cut
 * down to what its pixel decoder needs, so metadata the job does not use
 * (text that inflates, EXIF, APNG frames) is never read by the decoder.
 *
 * @module
 */

/** One chunk of a PNG. */
export interface PngChunk {
  /** Its four-letter type: "IHDR", "iCCP". */
  type: string;
  /** Where its length field is in the file. */
  at: number;
  /** Its data, cut short where the bytes at hand end. */
  data: Uint8Array;
  /** Where the next chunk starts (past the end of the bytes for a chunk cut short). */
  end: number;
}

/**
 * Calls `visit` with each chunk after the signature, in file order, until
 * it returns true, IEND has been visited, or the bytes end.
 *
 * @example
 * ```ts
 * walkPngChunks(bytes, (chunk) => chunk.type === "IDAT"); // stops at the first IDAT
 * ```
 */
export function walkPngChunks(bytes: Uint8Array, visit: (chunk: PngChunk) => boolean | void): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = 8; at + 8 <= bytes.length;) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    const end = at + 12 + length;
    if (visit({ type, at, data: bytes.subarray(at + 8, Math.min(bytes.length, at + 8 + length)), end }) === true) {
      return;
    }
    if (type === "IEND") return;
    at = end;
  }
}

/**
 * The PNG with only the chunks its decoder needs for the pixels: the
 * critical ones (IHDR, PLTE, IDAT, IEND, and any other, which the decoder
 * must see to refuse it) and tRNS. Every other ancillary chunk is left
 * out unread: text (`zTXt` and `iTXt` inflate), `iCCP` (read, capped, by
 * the colour step), `eXIf`, APNG frames. The bytes themselves when nothing
 * is left out.
 *
 * @example
 * ```ts
 * const image = await decodePng(pngForDecoder(bytes));
 * ```
 */
export function pngForDecoder(bytes: Uint8Array): Uint8Array {
  const kept: [number, number][] = [[0, 8]];
  let dropped = false;
  walkPngChunks(bytes, ({ type, at, end }) => {
    // Bit 5 of the first letter (lower case) marks an ancillary chunk.
    if ((type.charCodeAt(0) & 0x20) === 0 || type === "tRNS") kept.push([at, Math.min(end, bytes.length)]);
    else dropped = true;
  });
  if (!dropped) return bytes;
  const out = new Uint8Array(kept.reduce((sum, [from, to]) => sum + to - from, 0));
  let size = 0;
  for (const [from, to] of kept) {
    out.set(bytes.subarray(from, to), size);
    size += to - from;
  }
  return out;
}
