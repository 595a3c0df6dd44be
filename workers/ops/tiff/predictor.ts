/**
 * TIFF's horizontal differencing (Predictor 2): each sample is stored as
 * its difference from the same sample of the pixel to its left, undone
 * here in place, row by row.
 *
 * @module
 */

/**
 * Undoes horizontal differencing over `rows` rows of `rowBytes` bytes,
 * `samples` samples a pixel of `bits` (8 or 16) bits, in the file's byte
 * order (`little`).
 *
 * @example
 * ```ts
 * undoPredictor(block, rowBytes, rows, 3, 8, true);
 * ```
 */
export function undoPredictor(
  data: Uint8Array,
  rowBytes: number,
  rows: number,
  samples: number,
  bits: number,
  little: boolean,
): void {
  if (bits === 8 && samples === 3) {
    // RGB, the common case: the running sums stay in locals instead of being read back.
    for (let r = 0; r < rows; r++) {
      let i = r * rowBytes;
      const end = i + rowBytes - 2;
      let red = data[i], green = data[i + 1], blue = data[i + 2];
      for (i += 3; i < end; i += 3) {
        data[i] = red = (red + data[i]) & 255;
        data[i + 1] = green = (green + data[i + 1]) & 255;
        data[i + 2] = blue = (blue + data[i + 2]) & 255;
      }
    }
    return;
  }
  if (bits === 8) {
    for (let r = 0; r < rows; r++) {
      const start = r * rowBytes;
      for (let i = start + samples, end = start + rowBytes; i < end; i++) data[i] = data[i] + data[i - samples];
    }
    return;
  }
  const step = samples * 2;
  const [hi, lo] = little ? [1, 0] : [0, 1];
  for (let r = 0; r < rows; r++) {
    const start = r * rowBytes;
    for (let i = start + step, end = start + rowBytes - 1; i < end; i += 2) {
      const sum = ((data[i + hi] << 8) | data[i + lo]) + ((data[i - step + hi] << 8) | data[i - step + lo]);
      data[i + hi] = sum >> 8;
      data[i + lo] = sum;
    }
  }
}
