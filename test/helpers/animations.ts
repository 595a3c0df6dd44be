/**
 * Long animations made at test time, bounded: two distinct frames are
 * encoded once (gifenc, through shared/gif_writer.ts) and their blocks
 * repeated, so a 500-frame 1000x1000 GIF costs two quantized frames and
 * a copy, not 500.
 */
import { GifWriter } from "../../shared/gif_writer.ts";
import { walkGif } from "../../shared/gif_blocks.ts";

/** Frame `n` of two: a diagonal gradient, then its negative with a grey band. */
function pattern(width: number, height: number, n: number): Uint8ClampedArray {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 4;
      const r = (x * 255) / width, g = (y * 255) / height, b = ((x + y) * 127) / (width + height);
      const band = n === 1 && Math.abs(y - height / 2) < height / 10;
      data.set(n === 0 ? [r, g, b, 255] : band ? [128, 128, 128, 255] : [255 - r, 255 - g, 255 - b, 255], o);
    }
  }
  return data;
}

/**
 * A GIF of `frames` frames of `width` x `height`, alternating two
 * full-screen frames, each shown `delayMs`, looping for ever.
 *
 * @example
 * ```ts
 * await Deno.writeFile("long.gif", manyFrameGif(1000, 1000, 500, 40));
 * ```
 */
export function manyFrameGif(width: number, height: number, frames: number, delayMs = 40): Uint8Array {
  const writer = new GifWriter(0);
  for (const n of [0, 1]) writer.add({ data: pattern(width, height, n), width, height }, delayMs);
  const two = writer.finish();
  const walk = walkGif(two, 2);
  // Each frame's blocks start at its graphic control extension (8 bytes), before its 10-byte descriptor.
  const [first, second] = walk.frames.map((f, i) => f.dataAt - 1 - (i === 0 ? 0 : f.palette.length) - 10 - 8);
  const blocks = [two.subarray(first, second), two.subarray(second, two.length - 1)];
  const size = first + Math.ceil(frames / 2) * blocks[0].length + Math.floor(frames / 2) * blocks[1].length + 1;
  const out = new Uint8Array(size);
  out.set(two.subarray(0, first));
  let at = first;
  for (let i = 0; i < frames; i++) {
    out.set(blocks[i % 2], at);
    at += blocks[i % 2].length;
  }
  out[at] = 0x3b;
  return out;
}
