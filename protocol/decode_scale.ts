/**
 * The scale a worker decodes a JPEG at, shared with the server's estimate
 * of a plan's memory (plan_memory.ts), so the two cannot disagree.
 *
 * @module
 */

/**
 * A scaled JPEG decode keeps the crop at least this many times the target,
 * so Lanczos still has pixels to filter; at 1x the 1/8 decode alone would
 * decide the result and alias on fine texture.
 */
export const DECODE_MARGIN = 2;

/**
 * The smallest n/8 (n = 1..8) at which a `width` x `height` JPEG decodes to
 * at least `minWidth` x `minHeight`; libjpeg rounds scaled sides up.
 *
 * @example
 * ```ts
 * scaleEighths(4000, 3000, 500, 375); // 1
 * ```
 */
export function scaleEighths(width: number, height: number, minWidth: number, minHeight: number): number {
  let n = 1;
  while (n < 8 && (Math.ceil(width * n / 8) < minWidth || Math.ceil(height * n / 8) < minHeight)) n++;
  return n;
}
