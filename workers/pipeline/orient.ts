/**
 * orient: the decoded pixels turned and mirrored as the EXIF orientation
 * (1-8) says, so they read as displayed. The scaled JPEG decode and
 * libavif give pixels as stored; MozJPEG's full decode turns them itself,
 * and PNG, WebP, GIF and BMP have no orientation.
 *
 * @module
 */
import type { Pixels } from "../ops/pixels.ts";
import { release } from "../ops/release.ts";
import type { SourceImage } from "./step.ts";

/** Turns the source's pixels upright; the stored ones are freed. */
export function orient(source: SourceImage): void {
  const upright = turnUpright(source.image, source.orientation);
  if (upright !== source.image) release(source.image.data);
  source.image = upright;
  source.orientation = 1;
}

/** Whether an orientation swaps width and height (5-8 turn the image a quarter). */
export function swapsSides(orientation: number): boolean {
  return orientation >= 5 && orientation <= 8;
}

/**
 * Turns and mirrors stored pixels so they read as displayed. Orientation 1
 * (or an unknown value) returns the input itself.
 *
 * @example
 * ```ts
 * const upright = turnUpright(stored, 6); // stored 60x40 -> displayed 40x60
 * ```
 */
export function turnUpright(src: Pixels, orientation: number): Pixels {
  if (orientation < 2 || orientation > 8) return src;
  const W = src.width;
  const H = src.height;
  const swap = swapsSides(orientation);
  const width = swap ? H : W;
  const height = swap ? W : H;
  const out = new Uint8ClampedArray(W * H * 4);
  // One RGBA pixel per 32-bit word: a quarter of the loads and stores.
  const from = words(src.data);
  const to = new Uint32Array(out.buffer);
  // Stored index = base + x * dx + y * dy for displayed (x, y).
  let base: number, dx: number, dy: number;
  switch (orientation) {
    case 2: // mirrored left-right
      [base, dx, dy] = [W - 1, -1, W];
      break;
    case 3: // turned 180°
      [base, dx, dy] = [(H - 1) * W + W - 1, -1, -W];
      break;
    case 4: // mirrored top-bottom
      [base, dx, dy] = [(H - 1) * W, 1, -W];
      break;
    case 5: // mirrored along the main diagonal
      [base, dx, dy] = [0, W, 1];
      break;
    case 6: // stored turned 90° anticlockwise: view by turning clockwise
      [base, dx, dy] = [(H - 1) * W, -W, 1];
      break;
    case 7: // mirrored along the anti-diagonal
      [base, dx, dy] = [(H - 1) * W + W - 1, -W, -1];
      break;
    default: // 8: stored turned 90° clockwise
      [base, dx, dy] = [W - 1, W, -1];
  }
  let at = 0;
  for (let y = 0; y < height; y++) {
    let s = base + y * dy;
    for (let x = 0; x < width; x++, s += dx) to[at++] = from[s];
  }
  return { data: out, width, height };
}

function words(data: Uint8ClampedArray<ArrayBuffer>): Uint32Array {
  if (data.byteOffset % 4 === 0) return new Uint32Array(data.buffer, data.byteOffset, data.length / 4);
  return new Uint32Array(data.slice().buffer);
}
