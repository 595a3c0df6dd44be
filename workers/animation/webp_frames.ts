/**
 * An animated WebP's frames, decoded one at a time onto one canvas: each
 * ANMF frame's chunks are made a still WebP (shared/webp_anim.ts) for
 * libwebp's decoder, then alpha-blended over the canvas or put in place of
 * its rectangle, and its rectangle cleared after it is shown when it says
 * so, as libwebp's own animation decoder does (the background colour is
 * taken as transparent, as there).
 *
 * @module
 */
import type { FailOn } from "../../protocol/plan.ts";
import { stillWebp, walkWebpAnimation, type WebpFrameChunks } from "../../shared/webp_anim.ts";
import { decodeWebp } from "../lazy_codecs.ts";
import { damaged } from "../ops/damage.ts";
import type { Pixels } from "../ops/pixels.ts";
import { release } from "../ops/release.ts";
import { clearRect } from "./gif_frames.ts";
import type { AnimationFrames, CanvasFrame } from "./canvas_frames.ts";

/**
 * The frames of `bytes`, at most `maxFrames` (the count checked before the
 * reply). A file shorter than its RIFF size fails the job unless `failOn`
 * is "none" (then the frames that are whole are shown).
 *
 * @example
 * ```ts
 * for await (const frame of webpFrames(bytes, 12, "warning").frames) encode(frame.image, frame.delayMs);
 * ```
 */
export function webpFrames(bytes: Uint8Array, maxFrames: number, failOn: FailOn): AnimationFrames {
  const walk = walkWebpAnimation(bytes, maxFrames);
  if (walk.cut) damaged("webp", `it ends before the ${walk.frames.length + 1}th frame is whole (cut short)`, failOn);
  if (walk.frames.length === 0) throw new Error("the WebP decoder rejected the data as corrupt: it has no frames");
  return { plays: walk.loop, count: walk.frames.length, frames: drawn(walk.frames, walk.width, walk.height) };
}

async function* drawn(frames: WebpFrameChunks[], width: number, height: number): AsyncGenerator<CanvasFrame> {
  const canvas: Pixels = { data: new Uint8ClampedArray(width * height * 4), width, height };
  for (const [n, frame] of frames.entries()) {
    const pixels = await decodeWebp(stillWebp(frame));
    if (pixels.width !== frame.width || pixels.height !== frame.height) {
      throw new Error(
        `frame ${n + 1} decoded at ${pixels.width}x${pixels.height}, but its ANMF chunk says ` +
          `${frame.width}x${frame.height}`,
      );
    }
    if (frame.blend) blendOver(canvas, pixels, frame.x, frame.y);
    else putRect(canvas, pixels, frame.x, frame.y);
    release(pixels.data);
    yield { image: canvas, delayMs: frame.delayMs };
    if (frame.dispose) clearRect(canvas, { left: frame.x, top: frame.y, width: frame.width, height: frame.height });
  }
}

/** Puts `src` on the canvas at x,y in place of what was there. */
function putRect(canvas: Pixels, src: Pixels, x: number, y: number): void {
  for (let row = 0; row < src.height; row++) {
    const from = row * src.width * 4;
    canvas.data.set(src.data.subarray(from, from + src.width * 4), ((y + row) * canvas.width + x) * 4);
  }
}

/** Draws `src` over the canvas at x,y: the WebP container's "alpha-blending" of non-premultiplied RGBA. */
function blendOver(canvas: Pixels, src: Pixels, x: number, y: number): void {
  const out = canvas.data, data = src.data;
  for (let row = 0; row < src.height; row++) {
    let s = row * src.width * 4;
    let d = ((y + row) * canvas.width + x) * 4;
    for (let col = 0; col < src.width; col++, s += 4, d += 4) {
      const a = data[s + 3];
      if (a === 255) {
        out[d] = data[s];
        out[d + 1] = data[s + 1];
        out[d + 2] = data[s + 2];
        out[d + 3] = 255;
        continue;
      }
      if (a === 0) continue;
      const below = out[d + 3] * (255 - a) / 255;
      const alpha = a + below;
      for (let c = 0; c < 3; c++) out[d + c] = (data[s + c] * a + out[d + c] * below) / alpha;
      out[d + 3] = alpha;
    }
  }
}
