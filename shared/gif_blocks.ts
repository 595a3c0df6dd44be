/**
 * A GIF's frames found by walking its blocks, skipping every image's data
 * without decoding it: what the server counts before the reply (frames,
 * loop count, each frame's rectangle) and what the worker decodes frame by
 * frame (workers/animation/gif_frames.ts).
 *
 * @module
 */
import { ImgserveError } from "../protocol/error_codes.ts";

/** One image of a GIF, as its blocks describe it; its data are not read. */
export interface GifFrameBlock {
  left: number;
  top: number;
  width: number;
  height: number;
  interlaced: boolean;
  /** Its colour table: the local one, else the global one (RGB triples). */
  palette: Uint8Array;
  /** The palette index drawn as nothing, or -1. */
  transparent: number;
  /** How long it shows, in milliseconds (the GIF's hundredths times ten). */
  delayMs: number;
  /** What becomes of it before the next frame: 0-1 kept, 2 cleared, 3 the canvas before it put back. */
  disposal: number;
  /** The LZW minimum code size. */
  codeSize: number;
  /** Where its first data sub-block starts. */
  dataAt: number;
}

/** A GIF's structure: its screen, loop count and frames. */
export interface GifWalk {
  width: number;
  height: number;
  /**
   * How often it plays: 0 for ever, else its NETSCAPE count of repeats plus
   * one (1 without one), as ImageMagick's "Iterations" and WebP's loop count.
   */
  plays: number;
  frames: GifFrameBlock[];
  /** The file ends inside a block (its last frame's data may be short, or a frame missing). */
  cut: boolean;
}

const corrupt = (why: string): never => {
  throw new ImgserveError("SOURCE_NOT_IMAGE", `the GIF is corrupt: ${why}`);
};

const tableSize = (packed: number) => (packed & 0x80 ? 3 << ((packed & 7) + 1) : 0);

/**
 * Walks the blocks of `bytes` (a GIF) to the trailer or the end of the file.
 * Throws TOO_MANY_FRAMES as soon as a frame past `maxFrames` is met, and
 * SOURCE_NOT_IMAGE for a frame outside the screen or an impossible code size.
 *
 * @example
 * ```ts
 * walkGif(await Deno.readFile("anim.gif"), 1000).frames.length; // how many frames it has
 * ```
 */
export function walkGif(bytes: Uint8Array, maxFrames: number): GifWalk {
  if (bytes.length < 13) corrupt("it ends inside its header");
  const width = bytes[6] | (bytes[7] << 8);
  const height = bytes[8] | (bytes[9] << 8);
  const global = bytes.subarray(13, 13 + tableSize(bytes[10]));
  const frames: GifFrameBlock[] = [];
  let plays = 1;
  let control = { transparent: -1, delayMs: 0, disposal: 0 };
  let at = 13 + global.length;
  // Each round moves on by at least one byte.
  while (at < bytes.length) {
    const introducer = bytes[at];
    if (introducer === 0x3b) return { width, height, plays, frames, cut: false };
    if (introducer === 0x21) {
      const label = bytes[at + 1];
      if (label === 0xf9 && at + 7 < bytes.length && bytes[at + 2] >= 4) {
        const packed = bytes[at + 3];
        control = {
          transparent: packed & 1 ? bytes[at + 6] : -1,
          delayMs: (bytes[at + 4] | (bytes[at + 5] << 8)) * 10,
          disposal: (packed >> 2) & 7,
        };
      } else if (label === 0xff && bytes[at + 2] === 11 && at + 18 < bytes.length) {
        const name = String.fromCharCode(...bytes.subarray(at + 3, at + 14));
        if ((name === "NETSCAPE2.0" || name === "ANIMEXTS1.0") && bytes[at + 14] >= 3 && bytes[at + 15] === 1) {
          const repeats = bytes[at + 16] | (bytes[at + 17] << 8);
          plays = repeats === 0 ? 0 : repeats + 1;
        }
      }
      const end = subBlocksEnd(bytes, at + 2);
      if (end === undefined) return { width, height, plays, frames, cut: true };
      at = end;
    } else if (introducer === 0x2c) {
      if (at + 10 > bytes.length) return { width, height, plays, frames, cut: true };
      const view = new DataView(bytes.buffer, bytes.byteOffset + at, 10);
      const left = view.getUint16(1, true), top = view.getUint16(3, true);
      const frameWidth = view.getUint16(5, true), frameHeight = view.getUint16(7, true);
      if (frameWidth === 0 || frameHeight === 0) corrupt(`frame ${frames.length + 1} has a zero dimension`);
      if (left + frameWidth > width || top + frameHeight > height) {
        corrupt(
          `frame ${frames.length + 1} (${frameWidth}x${frameHeight} at ${left},${top}) goes past its ` +
            `${width}x${height} screen`,
        );
      }
      if (frames.length >= maxFrames) {
        throw new ImgserveError("TOO_MANY_FRAMES", `the GIF has more than ${maxFrames} frames, the limit`);
      }
      const local = tableSize(bytes[at + 9]);
      const codeAt = at + 10 + local;
      if (codeAt >= bytes.length) return { width, height, plays, frames, cut: true };
      const codeSize = bytes[codeAt];
      if (codeSize < 1 || codeSize > 11) corrupt(`frame ${frames.length + 1} has an LZW code size of ${codeSize}`);
      frames.push({
        left,
        top,
        width: frameWidth,
        height: frameHeight,
        interlaced: (bytes[at + 9] & 0x40) !== 0,
        palette: local ? bytes.subarray(at + 10, codeAt) : global,
        ...control,
        codeSize,
        dataAt: codeAt + 1,
      });
      control = { transparent: -1, delayMs: 0, disposal: 0 };
      const end = subBlocksEnd(bytes, codeAt + 1);
      if (end === undefined) return { width, height, plays, frames, cut: true };
      at = end;
    } else {
      // Bytes after the last image that are neither a block nor a trailer: decoders stop there, so do we.
      return { width, height, plays, frames, cut: false };
    }
  }
  // Whole blocks, then the end of the file: only the trailer is missing, which decoders do not need.
  return { width, height, plays, frames, cut: false };
}

/** Where the data sub-blocks starting at `at` end (after the zero-length one); undefined when the file ends first. */
function subBlocksEnd(bytes: Uint8Array, at: number): number | undefined {
  while (at < bytes.length) {
    const size = bytes[at];
    if (size === 0) return at + 1;
    at += size + 1;
  }
  return undefined;
}
