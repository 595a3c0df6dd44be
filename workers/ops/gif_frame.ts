/**
 * The first frame of a GIF, cut out of the file before it is decoded
 * (gif_decode.ts): a long animation would cost a scan of all its frames
 * for a result that only shows the first (libnsgif, the decoder before,
 * also refused a GIF of over 4096 frames as corrupt). The blocks are walked
 * up to the end of the first image's data and a trailer put after them, so
 * the decoder sees a GIF of one frame, whatever followed.
 *
 * @module
 */

/** A GIF of the source's first frame only; `cut` when the source ends inside that frame. */
export interface FirstFrame {
  bytes: Uint8Array;
  cut: boolean;
}

const TRAILER = 0x3b;

/**
 * The source up to the end of its first image, then a trailer. A source
 * cut inside that image comes back with its last data block shortened to
 * the bytes there are and closed, so a decoder can still draw the rows
 * they hold; one with no image at all comes back as it is (the decoder
 * refuses it).
 *
 * @example
 * ```ts
 * firstGifFrame(animation).bytes; // a one-frame GIF, however many frames the animation has
 * ```
 */
export function firstGifFrame(bytes: Uint8Array): FirstFrame {
  const colourTable = (packed: number) => (packed & 0x80 ? 3 << ((packed & 7) + 1) : 0);
  let at = 13 + colourTable(bytes[10]);
  // Every step moves on by at least one byte: at most bytes.length rounds.
  while (at < bytes.length) {
    const introducer = bytes[at];
    if (introducer === 0x21) {
      const end = subBlocksEnd(bytes, at + 2);
      if (typeof end !== "number") return closed(bytes, end.cutIn);
      at = end;
    } else if (introducer === 0x2c) {
      if (at + 10 > bytes.length) return { bytes, cut: true };
      // Image descriptor (10 bytes), local colour table, LZW minimum code size, then the data blocks.
      const end = subBlocksEnd(bytes, at + 10 + colourTable(bytes[at + 9]) + 1);
      if (typeof end !== "number") return closed(bytes, end.cutIn);
      if (bytes[end] === TRAILER) return { bytes: bytes.subarray(0, end + 1), cut: false };
      const frame = new Uint8Array(end + 1);
      frame.set(bytes.subarray(0, end));
      frame[end] = TRAILER;
      return { bytes: frame, cut: false };
    } else {
      return { bytes, cut: false };
    }
  }
  return { bytes, cut: true };
}

/**
 * Where a run of data sub-blocks starting at `at` ends (after its
 * zero-length block), or, when the source ends first, where the sub-block
 * it ends in starts.
 */
function subBlocksEnd(bytes: Uint8Array, at: number): number | { cutIn: number } {
  while (at < bytes.length) {
    const size = bytes[at];
    if (size === 0) return at + 1;
    if (at + 1 + size > bytes.length) return { cutIn: at };
    at += size + 1;
  }
  return { cutIn: at };
}

/** A source cut inside the sub-block at `cutIn`: that block shortened to the bytes there are, then closed. */
function closed(bytes: Uint8Array, cutIn: number): FirstFrame {
  const there = bytes.length - cutIn - 1;
  const kept = there > 0 ? bytes.length : Math.min(cutIn, bytes.length);
  const out = new Uint8Array(kept + 2);
  out.set(bytes.subarray(0, kept));
  if (there > 0) out[cutIn] = there;
  out[kept] = 0;
  out[kept + 1] = TRAILER;
  return { bytes: out, cut: true };
}
