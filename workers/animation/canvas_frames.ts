/**
 * What an animated source gives the worker: its frames one at a time, each
 * a whole canvas, and its loop count.
 *
 * @module
 */
import type { Pixels } from "../ops/pixels.ts";

/** One frame as shown: the whole canvas (the same buffer each time: use it before asking for the next). */
export interface CanvasFrame {
  image: Pixels;
  delayMs: number;
}

/** An animation's frames, decoded as they are asked for. */
export interface AnimationFrames {
  /** How often it plays: 0 for ever (WebP's loop count; a GIF's NETSCAPE repeats plus one). */
  plays: number;
  /** How many frames it has. */
  count: number;
  frames: AsyncGenerator<CanvasFrame>;
}
