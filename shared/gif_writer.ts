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
 * A flat grey GIF of one frame: a placeholder. Its LZW data is a few
 * hundred bytes a megapixel.
 *
 * @example
 * ```ts
 * const gif = flatGif(200, 120);
 * ```
 */
export function flatGif(width: number, height: number): Uint8Array<ArrayBuffer> {
  const encoder = gifenc.GIFEncoder({ initialCapacity: 4096 });
  encoder.writeFrame(new Uint8Array(width * height), width, height, {
    palette: [[0x80, 0x80, 0x80], [0x80, 0x80, 0x80]],
    repeat: -1,
  });
  encoder.finish();
  return encoder.bytesView().slice();
}
