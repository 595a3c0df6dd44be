/**
 * Animated WebP results: each frame is encoded as a still by libwebp's
 * encoder (@jsquash/webp), and its coded chunks (VP8, or ALPH and VP8, or
 * VP8L) are kept as one ANMF frame; finish() puts them after a VP8X and an
 * ANIM chunk in one RIFF. Every frame is a whole canvas that replaces the
 * one before (no blending, no disposal), so only the encoded frames are held.
 *
 * @module
 */
import { writeUint24 } from "../../shared/webp_anim.ts";
import { encodeWebp } from "../lazy_codecs.ts";
import type { Pixels } from "../ops/pixels.ts";
import type { EncodeOptions as WebpOptions } from "@jsquash/webp/codec/enc/webp_enc.d.ts";

/** An ANMF duration is 24 bits of milliseconds. */
const MAX_DURATION = 0xffffff;
/** ANMF flags: bit 1 set, the frame replaces its rectangle rather than being blended over it. */
const NO_BLEND = 0x02;

const ascii = (bytes: Uint8Array, at: number) => String.fromCharCode(...bytes.subarray(at, at + 4));

/**
 * Writes an animated WebP a frame at a time.
 *
 * @example
 * ```ts
 * const webp = new WebpAnimationWriter(200, 120, 0, { quality: 80 });
 * await webp.add(frame, 100);
 * const bytes = webp.finish();
 * ```
 */
export class WebpAnimationWriter {
  #frames: Uint8Array[] = [];
  #size = 0;
  #alpha = false;

  /** `plays`: its loop count, how often it plays (0: for ever). */
  constructor(
    readonly width: number,
    readonly height: number,
    readonly plays: number,
    readonly options: Partial<WebpOptions>,
  ) {}

  /** Encodes one whole-canvas frame shown for `delayMs`. */
  async add(image: Pixels, delayMs: number): Promise<void> {
    const still = new Uint8Array(await encodeWebp(image, this.options));
    const chunks = codedChunks(still);
    const frame = new Uint8Array(24 + chunks.length);
    frame.set([0x41, 0x4e, 0x4d, 0x46], 0);
    new DataView(frame.buffer).setUint32(4, 16 + chunks.length, true);
    writeUint24(frame, 20, Math.min(MAX_DURATION, Math.max(0, Math.round(delayMs))));
    writeUint24(frame, 14, this.width - 1);
    writeUint24(frame, 17, this.height - 1);
    frame[23] = NO_BLEND;
    frame.set(chunks, 24);
    this.#alpha ||= ascii(chunks, 0) === "ALPH" || (ascii(chunks, 0) === "VP8L" && (chunks[12] & 0x10) !== 0);
    this.#frames.push(frame);
    this.#size += frame.length;
  }

  /** The animated WebP's bytes. */
  finish(): ArrayBuffer {
    if (this.#frames.length === 0) throw new Error("an animated WebP needs at least one frame");
    const head = 12 + 18 + 14;
    const out = new Uint8Array(head + this.#size);
    const view = new DataView(out.buffer);
    out.set([0x52, 0x49, 0x46, 0x46], 0);
    view.setUint32(4, out.length - 8, true);
    out.set([0x57, 0x45, 0x42, 0x50, 0x56, 0x50, 0x38, 0x58], 8);
    view.setUint32(16, 10, true);
    out[20] = 0x02 | (this.#alpha ? 0x10 : 0);
    writeUint24(out, 24, this.width - 1);
    writeUint24(out, 27, this.height - 1);
    out.set([0x41, 0x4e, 0x49, 0x4d], 30);
    view.setUint32(34, 6, true);
    // Background colour (transparent), then the loop count.
    view.setUint16(42, this.plays, true);
    let at = head;
    for (const frame of this.#frames) {
      out.set(frame, at);
      at += frame.length;
    }
    this.#frames = [];
    return out.buffer;
  }
}

/** A still WebP's coded chunks (ALPH, VP8, VP8L), each with its header and padding; VP8X and metadata left out. */
function codedChunks(still: Uint8Array): Uint8Array {
  const view = new DataView(still.buffer, still.byteOffset, still.byteLength);
  const kept: Uint8Array[] = [];
  for (let at = 12; at + 8 <= still.length;) {
    const type = ascii(still, at);
    const end = Math.min(still.length, at + 8 + view.getUint32(at + 4, true));
    const padded = Math.min(still.length, end + ((end - at) & 1));
    if (type === "ALPH" || type === "VP8 " || type === "VP8L") kept.push(still.subarray(at, padded));
    at = padded;
  }
  const out = new Uint8Array(kept.reduce((sum, c) => sum + c.length, 0));
  let at = 0;
  for (const chunk of kept) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}
