/**
 * An animated WebP's frames found by walking its RIFF chunks (VP8X, ANIM,
 * then one ANMF a frame), skipping every frame's coded data: what the
 * server counts before the reply and what the worker decodes frame by frame
 * (workers/animation/webp_frames.ts). Each frame's data is kept as the
 * chunks (ALPH, VP8 or VP8L) a still WebP is made of.
 *
 * @module
 */
import { ImgserveError } from "../protocol/error_codes.ts";

/** One ANMF frame: where it goes on the canvas, how it is drawn, and its coded chunks. */
export interface WebpFrameChunks {
  x: number;
  y: number;
  width: number;
  height: number;
  delayMs: number;
  /** Alpha-blended over the canvas (else it replaces its rectangle). */
  blend: boolean;
  /** Its rectangle is cleared to transparent before the next frame. */
  dispose: boolean;
  /** The frame's ALPH, VP8 or VP8L chunks, headers included. */
  data: Uint8Array;
}

/** An animated WebP's structure. */
export interface WebpWalk {
  width: number;
  height: number;
  /** ANIM's loop count: 0 for ever. */
  loop: number;
  frames: WebpFrameChunks[];
  /** The file ends before its RIFF size says. */
  cut: boolean;
}

const corrupt = (why: string): never => {
  throw new ImgserveError("SOURCE_NOT_IMAGE", `the WebP is corrupt: ${why}`);
};

const fourcc = (bytes: Uint8Array, at: number) => String.fromCharCode(...bytes.subarray(at, at + 4));
const uint24 = (bytes: Uint8Array, at: number) => bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16);

/**
 * Whether a WebP's first chunk is a VP8X with its animation flag: such a
 * file is walked whole (see {@linkcode walkWebpAnimation}).
 *
 * @example
 * ```ts
 * isAnimatedWebp(prefix); // true for an img2webp result
 * ```
 */
export function isAnimatedWebp(bytes: Uint8Array): boolean {
  return bytes.length >= 21 && fourcc(bytes, 0) === "RIFF" && fourcc(bytes, 8) === "WEBP" &&
    fourcc(bytes, 12) === "VP8X" && (bytes[20] & 0x02) !== 0;
}

/**
 * Walks an animated WebP's chunks. Throws TOO_MANY_FRAMES as soon as a
 * frame past `maxFrames` is met, and SOURCE_NOT_IMAGE for a frame outside
 * the canvas or a chunk whose size runs past its parent.
 *
 * @example
 * ```ts
 * walkWebpAnimation(bytes, 1000).frames.length;
 * ```
 */
export function walkWebpAnimation(bytes: Uint8Array, maxFrames: number): WebpWalk {
  if (!isAnimatedWebp(bytes) || bytes.length < 30) corrupt("it is not an animated WebP");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const riffEnd = 8 + view.getUint32(4, true);
  const end = Math.min(bytes.length, riffEnd);
  const width = uint24(bytes, 24) + 1;
  const height = uint24(bytes, 27) + 1;
  let loop = 0;
  const frames: WebpFrameChunks[] = [];
  let at = 12;
  // Each round moves on by at least the 8 bytes of a chunk header.
  while (at + 8 <= end) {
    const type = fourcc(bytes, at);
    const size = view.getUint32(at + 4, true);
    const start = at + 8;
    if (start + size > end) {
      if (end === riffEnd) corrupt(`its ${type.replace(/[^\x20-\x7e]/g, "?")} chunk runs past the file's end`);
      break;
    }
    if (type === "ANIM" && size >= 6) loop = view.getUint16(start + 4, true);
    if (type === "ANMF") {
      if (size < 16) corrupt(`frame ${frames.length + 1} is too short`);
      if (frames.length >= maxFrames) {
        throw new ImgserveError("TOO_MANY_FRAMES", `the WebP has more than ${maxFrames} frames, the limit`);
      }
      const frame = {
        x: uint24(bytes, start) * 2,
        y: uint24(bytes, start + 3) * 2,
        width: uint24(bytes, start + 6) + 1,
        height: uint24(bytes, start + 9) + 1,
        delayMs: uint24(bytes, start + 12),
        blend: (bytes[start + 15] & 0x02) === 0,
        dispose: (bytes[start + 15] & 0x01) !== 0,
        data: bytes.subarray(start + 16, start + size),
      };
      if (frame.x + frame.width > width || frame.y + frame.height > height) {
        corrupt(
          `frame ${frames.length + 1} (${frame.width}x${frame.height} at ${frame.x},${frame.y}) goes past its ` +
            `${width}x${height} canvas`,
        );
      }
      // The decoder sizes its memory from the coded header, so a frame claiming more than its ANMF is refused here.
      const coded = codedSize(frame.data);
      if (coded && (coded.width !== frame.width || coded.height !== frame.height)) {
        const n = frames.length + 1;
        corrupt(`frame ${n} is coded as ${coded.width}x${coded.height} in its ${frame.width}x${frame.height} ANMF`);
      }
      frames.push(frame);
    }
    at = start + size + (size & 1);
  }
  return { width, height, loop, frames, cut: bytes.length < riffEnd };
}

/**
 * The size a frame's VP8 or VP8L header gives (after an ALPH chunk, if
 * any); undefined when the data end before it or hold neither, which the
 * decoder then refuses.
 */
function codedSize(data: Uint8Array): { width: number; height: number } | undefined {
  let at = 0;
  if (data.length >= 8 && fourcc(data, 0) === "ALPH") {
    const size = new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(4, true);
    at = 8 + size + (size & 1);
  }
  if (at + 18 > data.length) return undefined;
  const view = new DataView(data.buffer, data.byteOffset + at, 18);
  const type = fourcc(data, at);
  // VP8: a 3-byte frame tag and the start code 9d 01 2a, then 14-bit sides.
  if (type === "VP8 " && data[at + 11] === 0x9d && data[at + 12] === 0x01 && data[at + 13] === 0x2a) {
    return { width: view.getUint16(14, true) & 0x3fff, height: view.getUint16(16, true) & 0x3fff };
  }
  if (type === "VP8L" && data[at + 8] === 0x2f) {
    const bits = view.getUint32(9, true);
    return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
  }
  return undefined;
}

/**
 * One frame's chunks as a still WebP a decoder reads: a VP8X (alpha) before
 * an ALPH chunk, else the VP8 or VP8L chunk alone.
 *
 * @example
 * ```ts
 * await decodeWebp(stillWebp(frame));
 * ```
 */
export function stillWebp(frame: Pick<WebpFrameChunks, "width" | "height" | "data">): Uint8Array {
  const hasAlph = frame.data.length >= 4 && fourcc(frame.data, 0) === "ALPH";
  const head = hasAlph ? 30 : 12;
  const out = new Uint8Array(head + frame.data.length);
  const view = new DataView(out.buffer);
  out.set([0x52, 0x49, 0x46, 0x46], 0);
  view.setUint32(4, out.length - 8, true);
  out.set([0x57, 0x45, 0x42, 0x50], 8);
  if (hasAlph) {
    out.set([0x56, 0x50, 0x38, 0x58], 12);
    view.setUint32(16, 10, true);
    out[20] = 0x10;
    writeUint24(out, 24, frame.width - 1);
    writeUint24(out, 27, frame.height - 1);
  }
  out.set(frame.data, head);
  return out;
}

/** Writes a little-endian 24-bit number. */
export function writeUint24(out: Uint8Array, at: number, value: number): void {
  out[at] = value & 0xff;
  out[at + 1] = (value >> 8) & 0xff;
  out[at + 2] = (value >> 16) & 0xff;
}
