/**
 * Small RGBA pixel operations the codecs do not offer: a rectangle copied
 * out, integer box shrink, flattening on white, and an opacity check.
 *
 * @module
 */

/** RGBA pixels with their size, like ImageData but plain. */
export interface Pixels {
  data: Uint8ClampedArray<ArrayBuffer>;
  width: number;
  height: number;
}

/** The codecs' 8-bit ImageData as Pixels (same memory). */
export function fromImageData(image: ImageData): Pixels {
  return { data: image.data as Uint8ClampedArray<ArrayBuffer>, width: image.width, height: image.height };
}

/** Pixels as ImageData for the codecs (same memory). */
export function toImageData(pixels: Pixels): ImageData {
  return new ImageData(pixels.data, pixels.width, pixels.height);
}

/** Copies the rectangle x,y,w,h out of an image; the whole image is returned as it is. */
export function copyRect(src: Pixels, x: number, y: number, width: number, height: number): Pixels {
  if (x === 0 && y === 0 && width === src.width && height === src.height) return src;
  const out = new Uint8ClampedArray(width * height * 4);
  for (let row = 0; row < height; row++) {
    const from = ((y + row) * src.width + x) * 4;
    out.set(src.data.subarray(from, from + width * 4), row * width * 4);
  }
  return { data: out, width, height };
}

/**
 * Averages each fx x fy block of `rect` (the whole image by default) into
 * one pixel, reading the rectangle in place rather than copying it first. Exact for any integer factor
 * and much cheaper than a windowed filter over the full image; the final
 * filter then only sees a few times the target's pixels.
 */
export function boxShrink(
  src: Pixels,
  fx: number,
  fy: number,
  rect: { x: number; y: number; width: number; height: number } = { x: 0, y: 0, width: src.width, height: src.height },
): Pixels {
  const width = Math.floor(rect.width / fx);
  const height = Math.floor(rect.height / fy);
  const out = new Uint8ClampedArray(width * height * 4);
  const sums = new Uint32Array(width * 4);
  const area = fx * fy;
  const half = area >> 1;
  const data = src.data;
  const stride = src.width * 4;
  for (let oy = 0; oy < height; oy++) {
    sums.fill(0);
    for (let dy = 0; dy < fy; dy++) {
      let at = (rect.y + oy * fy + dy) * stride + rect.x * 4;
      for (let ox = 0; ox < width; ox++) {
        const o = ox * 4;
        let r = 0, g = 0, b = 0, a = 0;
        for (let dx = 0; dx < fx; dx++) {
          r += data[at];
          g += data[at + 1];
          b += data[at + 2];
          a += data[at + 3];
          at += 4;
        }
        sums[o] += r;
        sums[o + 1] += g;
        sums[o + 2] += b;
        sums[o + 3] += a;
      }
    }
    const row = oy * width * 4;
    for (let i = 0; i < width * 4; i++) out[row + i] = (sums[i] + half) / area;
  }
  return { data: out, width, height };
}

/** Whether every pixel is fully opaque. */
export function isOpaque(src: Pixels): boolean {
  const data = src.data;
  for (let i = 3; i < data.length; i += 4) if (data[i] !== 255) return false;
  return true;
}

/** Composites the image over white in place and makes it opaque. */
export function flattenOnWhite(src: Pixels): Pixels {
  const data = src.data;
  for (let i = 0; i < data.length; i += 4) {
    const a = data[i + 3];
    if (a === 255) continue;
    const keep = a / 255;
    const white = 255 * (1 - keep);
    data[i] = data[i] * keep + white + 0.5;
    data[i + 1] = data[i + 1] * keep + white + 0.5;
    data[i + 2] = data[i + 2] * keep + white + 0.5;
    data[i + 3] = 255;
  }
  return src;
}
