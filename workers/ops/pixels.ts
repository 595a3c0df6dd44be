/**
 * Small RGBA pixel operations the codecs do not offer: a rectangle copied
 * out, integer box shrink, flattening on white, and an opacity check.
 *
 * @module
 */
import { RESAMPLE_BAND_BYTES } from "../../protocol/plan_memory.ts";
import { dropIfGrown, ResampleLayout, resampler } from "./resample_wasm.ts";

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
 * filter then only sees a few times the target's pixels. The sums run in
 * WebAssembly SIMD (resample_wasm.ts), a source row at a time, in bands of
 * columns as its memory allows.
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
  const e = resampler();
  // A result column takes fx source pixels, its four sums and its four bytes.
  const band = Math.max(1, Math.min(width, Math.floor(RESAMPLE_BAND_BYTES / (fx * 4 + 20))));
  const layout = new ResampleLayout();
  const srcRow = layout.take(band * fx * 4), sums = layout.take(band * 16), outRow = layout.take(band * 4);
  const bytes = new Uint8Array(layout.reserve(e));
  bytes.fill(0, sums, sums + band * 16);
  const data = src.data;
  for (let x0 = 0; x0 < width; x0 += band) {
    const columns = Math.min(band, width - x0), rowBytes = columns * fx * 4;
    for (let oy = 0; oy < height; oy++) {
      for (let dy = 0; dy < fy; dy++) {
        const at = ((rect.y + oy * fy + dy) * src.width + rect.x + x0 * fx) * 4;
        bytes.set(data.subarray(at, at + rowBytes), srcRow);
        e.box_add_row(srcRow, columns, fx, sums);
      }
      e.box_out(sums, columns, fx * fy, outRow);
      out.set(bytes.subarray(outRow, outRow + columns * 4), (oy * width + x0) * 4);
    }
  }
  dropIfGrown(e);
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
