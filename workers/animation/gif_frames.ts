/**
 * An animated GIF's frames, decoded one at a time onto one canvas the size
 * of its screen, as browsers show them: the screen starts transparent, each
 * frame is drawn at its offset (its transparent index leaves the canvas as
 * it is), and after it is shown its disposal clears its rectangle (2) or
 * puts back what was there before it (3). Only the canvas, a copy for
 * disposal 3 and one frame's indices are held, whatever the frame count.
 *
 * @module
 */
import type { FailOn } from "../../protocol/plan.ts";
import { walkGif } from "../../shared/gif_blocks.ts";
import { damaged } from "../ops/damage.ts";
import { draw, GifCorruptError, lzwDecode } from "../ops/gif_decode.ts";
import type { Pixels } from "../ops/pixels.ts";
import type { AnimationFrames } from "./canvas_frames.ts";

/**
 * The frames of `bytes`, at most `maxFrames` (the count checked before
 * the reply). A frame whose data end early fails the job unless `failOn`
 * is "none" (the rest of it stays as the canvas was).
 *
 * @example
 * ```ts
 * for (const frame of gifFrames(bytes, 12, "warning").frames) encode(frame.image, frame.delayMs);
 * ```
 */
export function gifFrames(bytes: Uint8Array, maxFrames: number, failOn: FailOn): AnimationFrames {
  const walk = walkGif(bytes, maxFrames);
  if (walk.cut) damaged("gif", `it ends inside a block after ${walk.frames.length} frames (cut short)`, failOn);
  if (walk.frames.length === 0) throw new GifCorruptError("it has no image");
  return { plays: walk.plays, count: walk.frames.length, frames: drawn(bytes, walk, failOn) };
}

async function* drawn(
  bytes: Uint8Array,
  walk: ReturnType<typeof walkGif>,
  failOn: FailOn,
): AsyncGenerator<{ image: Pixels; delayMs: number }> {
  const { width, height } = walk;
  const canvas: Pixels = { data: new Uint8ClampedArray(width * height * 4), width, height };
  let saved: Uint8ClampedArray | undefined;
  const indices = new Uint8Array(width * height);
  for (const [n, frame] of walk.frames.entries()) {
    if (frame.disposal === 3) {
      saved ??= new Uint8ClampedArray(canvas.data.length);
      saved.set(canvas.data);
    }
    const want = frame.width * frame.height;
    const filled = lzwDecode(joinedData(bytes, frame.dataAt), frame.codeSize, indices.subarray(0, want));
    if (filled < want) {
      damaged("gif", `frame ${n + 1} ends after ${filled} of its ${want} pixels (cut short)`, failOn);
    }
    draw(canvas.data, width, frame, indices, filled, frame.palette, frame.transparent);
    yield { image: canvas, delayMs: frame.delayMs };
    if (frame.disposal === 2) clearRect(canvas, frame);
    if (frame.disposal === 3) canvas.data.set(saved!);
  }
}

/** A frame's data sub-blocks joined: sized by a first walk, so only its own bytes are copied. */
function joinedData(bytes: Uint8Array, at: number): Uint8Array {
  let size = 0;
  for (let i = at; i < bytes.length && bytes[i] !== 0; i += bytes[i] + 1) size += bytes[i];
  const joined = new Uint8Array(size);
  let length = 0;
  for (let i = at; i < bytes.length && bytes[i] !== 0; i += bytes[i] + 1) {
    const block = bytes.subarray(i + 1, Math.min(i + 1 + bytes[i], bytes.length));
    joined.set(block, length);
    length += block.length;
  }
  return joined.subarray(0, length);
}

/** Makes a rectangle of the canvas transparent. */
export function clearRect(
  canvas: Pixels,
  rect: { left: number; top: number; width: number; height: number },
): void {
  for (let y = rect.top; y < rect.top + rect.height; y++) {
    const from = (y * canvas.width + rect.left) * 4;
    canvas.data.fill(0, from, from + rect.width * 4);
  }
}
