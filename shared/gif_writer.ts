/**
 * GIF results written with gifenc: each frame quantized to its own palette
 * of up to 256 colours (the first's is the global table, the others'
 * local), LZW-coded, with its delay and the loop count. Frames
 * are whole canvases, each disposed "to background" before the next, so a
 * transparent pixel shows nothing of the frame before (what the source
 * showed there is already in the canvas the frame was made from).
 *
 * @module
 */
import gifencModule from "gifenc";

/** RGBA pixels, as the worker's pipeline holds them. */
export interface RgbaImage {
  data: Uint8ClampedArray | Uint8Array;
  width: number;
  height: number;
}

type Palette = number[][];
interface FrameOptions {
  palette?: Palette;
  delay?: number;
  repeat?: number;
  transparent?: boolean;
  transparentIndex?: number;
  dispose?: number;
}
interface Encoder {
  writeFrame(index: Uint8Array, width: number, height: number, options: FrameOptions): void;
  finish(): void;
  bytesView(): Uint8Array;
}
/** gifenc's functions (it ships no types). */
interface Gifenc {
  GIFEncoder(options?: { initialCapacity?: number }): Encoder;
  quantize(rgba: Uint8Array, maxColors: number, options?: { format?: string; oneBitAlpha?: boolean }): Palette;
  applyPalette(rgba: Uint8Array, palette: Palette, format?: string): Uint8Array;
}
const gifenc = gifencModule as unknown as Gifenc;

/** Below this alpha a pixel is written transparent: a GIF has one transparent index and no partial alpha. */
const ALPHA_CUT = 128;
/** GIF disposal method 2: the frame's area is cleared before the next frame. */
const DISPOSE_TO_BACKGROUND = 2;

/**
 * Writes a GIF a frame at a time; only the encoded bytes are kept.
 *
 * @example
 * ```ts
 * const gif = new GifWriter(0);
 * gif.add(frame, 100);
 * const bytes = gif.finish();
 * ```
 */
export class GifWriter {
  #encoder = gifenc.GIFEncoder({ initialCapacity: 64 * 1024 });
  #plays: number;
  #frames = 0;

  /** `plays`: how often it plays, 0 for ever; written as a NETSCAPE count of repeats (none for 1). */
  constructor(plays = 1) {
    this.#plays = plays;
  }

  /** Adds one frame shown for `delayMs` (kept to hundredths of a second). */
  add(image: RgbaImage, delayMs: number): void {
    // gifenc reads the RGBA through a Uint32Array over the whole buffer.
    const whole = image.data.byteOffset === 0 && image.data.byteLength === image.data.buffer.byteLength;
    const rgba = whole ? new Uint8Array(image.data.buffer, 0, image.data.byteLength) : new Uint8Array(image.data);
    let seeThrough = false;
    for (let i = 3; i < rgba.length; i += 4) {
      if (rgba[i] < ALPHA_CUT) {
        seeThrough = true;
        break;
      }
    }
    const format = seeThrough ? "rgba4444" : "rgb565";
    const palette = gifenc.quantize(rgba, 256, { format, oneBitAlpha: seeThrough });
    const index = gifenc.applyPalette(rgba, palette, format);
    const transparentIndex = seeThrough ? palette.findIndex((colour) => colour[3] === 0) : -1;
    this.#encoder.writeFrame(index, image.width, image.height, {
      palette,
      delay: delayMs,
      // gifenc writes no NETSCAPE block for -1.
      repeat: this.#plays === 0 ? 0 : this.#plays - 1 || -1,
      transparent: transparentIndex >= 0,
      transparentIndex,
      dispose: DISPOSE_TO_BACKGROUND,
    });
    this.#frames++;
  }

  /** The GIF's bytes; no frame may be added after. */
  finish(): Uint8Array<ArrayBuffer> {
    if (this.#frames === 0) throw new Error("a GIF needs at least one frame");
    this.#encoder.finish();
    return this.#encoder.bytesView().slice();
  }
}

/**
 * A flat grey GIF of one frame: a placeholder. Its LZW data is written
 * without an index a pixel, since every index is 0: each code stands for
 * one pixel more than the one before (the table grows by one string of
 * zeros a code): 1.7 KB at 1000x1000, 180 KB at 16384x16384.
 *
 * @example
 * ```ts
 * const gif = flatGif(200, 120);
 * ```
 */
export function flatGif(width: number, height: number): Uint8Array<ArrayBuffer> {
  const data = flatLzw(width * height);
  const blocks = Math.ceil(data.length / 255);
  const head = [0x47, 0x49, 0x46, 0x38, 0x39, 0x61, width & 0xff, width >> 8, height & 0xff, height >> 8, 0x80, 0, 0];
  const palette = [0x80, 0x80, 0x80, 0x80, 0x80, 0x80];
  const descriptor = [0x2c, 0, 0, 0, 0, width & 0xff, width >> 8, height & 0xff, height >> 8, 0, 2];
  const out = new Uint8Array(head.length + palette.length + descriptor.length + data.length + blocks + 2);
  out.set([...head, ...palette, ...descriptor]);
  let at = head.length + palette.length + descriptor.length;
  for (let from = 0; from < data.length; from += 255) {
    const block = data.subarray(from, from + 255);
    out[at++] = block.length;
    out.set(block, at);
    at += block.length;
  }
  out[at++] = 0;
  out[at] = 0x3b;
  return out;
}

/** LZW (minimum code size 2) of `pixels` zero indices, as a greedy encoder that clears a full table writes it. */
function flatLzw(pixels: number): Uint8Array {
  const CLEAR = 4, END = 5;
  const bytes: number[] = [];
  let acc = 0, bits = 0, size = 3, next = 6, longest = 1;
  const emit = (code: number) => {
    acc |= code << bits;
    for (bits += size; bits >= 8; bits -= 8, acc >>>= 8) bytes.push(acc & 0xff);
  };
  emit(CLEAR);
  // Each round writes one code for `length` pixels: at most pixels rounds, in practice about sqrt(2 * pixels).
  for (let left = pixels; left > 0;) {
    const length = Math.min(longest, left);
    emit(length === 1 ? 0 : CLEAR + length);
    left -= length;
    if (left === 0) break;
    if (next === 4096) {
      emit(CLEAR);
      [size, next, longest] = [3, 6, 1];
    } else {
      if (next >= 1 << size) size++;
      next++;
      longest++;
    }
  }
  emit(END);
  if (bits > 0) bytes.push(acc & 0xff);
  return new Uint8Array(bytes);
}
