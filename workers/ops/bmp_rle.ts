/**
 * An RLE BMP made readable for libnsbmp 0.1.6 (the version @cwasm/nsbmp
 * builds), which refuses an end-of-line code after the last row as going
 * past the image, though writers such as ImageMagick end every row with
 * one, the last included, before the end-of-bitmap code. So the RLE
 * tokens are walked as libnsbmp walks them, and the end-of-line that would
 * take it past the last row becomes an end-of-bitmap: the same pixels,
 * and no refusal.
 *
 * @module
 */

const RLE8 = 1;
const RLE4 = 2;

/**
 * `bytes`, or a copy with the end-of-line after the last row made an
 * end-of-bitmap when the BMP is RLE8 or RLE4 and has one.
 *
 * @example
 * ```ts
 * await decodeBmp(endRleAtLastRow(bytes));
 * ```
 */
export function endRleAtLastRow(bytes: Uint8Array): Uint8Array {
  if (bytes.length < 34) return bytes;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(14, true) < 40) return bytes;
  const compression = view.getUint32(30, true);
  const depth = view.getUint16(28, true);
  if (!(compression === RLE8 && depth === 8) && !(compression === RLE4 && depth === 4)) return bytes;
  const width = Math.abs(view.getInt32(18, true));
  const signedHeight = view.getInt32(22, true);
  const height = Math.abs(signedHeight);
  if (width === 0 || height === 0) return bytes;
  const at = lastRowEnd(bytes, view.getUint32(10, true), width, height, signedHeight < 0, compression === RLE4);
  if (at === undefined) return bytes;
  const copy = bytes.slice();
  copy[at + 1] = 1;
  return copy;
}

/**
 * Where the end-of-line that libnsbmp would refuse starts, if there is
 * one. Its cursor is followed: a run moves on lazily (a row ends only when
 * the next pixel is written), an end-of-line moves down only when nothing
 * else has since the last one.
 */
function lastRowEnd(
  bytes: Uint8Array,
  start: number,
  width: number,
  height: number,
  topDown: boolean,
  nibbles: boolean,
): number | undefined {
  let x = 0, y = 0, lastY = 0;
  const draw = (count: number) => {
    const left = topDown ? (height - y) * width - x : (y + 1) * width - x;
    count = Math.min(count, left);
    if (count <= 0) return 0;
    if (x >= width) [x, y] = [0, y + 1];
    const end = x + count;
    const rows = Math.floor((end - 1) / width);
    y += rows;
    x = end - rows * width;
    return count;
  };
  // Each round moves on by at least two bytes.
  for (let at = start; at + 2 <= bytes.length;) {
    const count = bytes[at], code = bytes[at + 1];
    if (count > 0) {
      draw(count);
      at += 2;
    } else if (code === 0) {
      x = 0;
      if (lastY === y) {
        if (y + 1 >= height) return at;
        y++;
      }
      lastY = y;
      at += 2;
    } else if (code === 1) {
      return undefined;
    } else if (code === 2) {
      if (at + 4 > bytes.length) return undefined;
      x += bytes[at + 2];
      y += bytes[at + 3];
      at += 4;
    } else {
      const drawn = draw(code);
      const data = nibbles ? (drawn + 1) >> 1 : drawn;
      at += 2 + data + (data & 1);
    }
    if (y >= height) return undefined;
  }
  return undefined;
}
