/**
 * An animation's frames counted before the reply, from a walk of its
 * blocks (GIF) or chunks (WebP) that skips the coded data: the frame count
 * a plan needs, checked against `--max-frames` and, with the canvas,
 * against `--max-animation-pixels` before anything is decoded.
 *
 * @module
 */
import { ImgserveError } from "../../protocol/error_codes.ts";
import type { ImageHeader } from "../../protocol/plan.ts";
import { walkGif } from "../../shared/gif_blocks.ts";
import { isAnimatedWebp, walkWebpAnimation } from "../../shared/webp_anim.ts";

/** The limits an animation is held to. */
export interface AnimationLimits {
  maxFrames: number;
  maxAnimationPixels: number;
}

/**
 * Whether the source must be read whole to count its frames: any GIF (its
 * frames are only found by walking it), a WebP whose VP8X says it is animated.
 *
 * @example
 * ```ts
 * if (mayBeAnimated(header, prefix)) bytes = await readAll(stream, maxBytes, [prefix]);
 * ```
 */
export function mayBeAnimated(header: ImageHeader, prefix: Uint8Array): boolean {
  return header.format === "gif" || (header.format === "webp" && isAnimatedWebp(prefix));
}

/**
 * The header with its frame count when the whole source `bytes` is an
 * animation (a GIF of two frames or more, any animated WebP); a still
 * GIF's header comes back as it was.
 *
 * @example
 * ```ts
 * const header = withFrames(readHeader(bytes, true), bytes, { maxFrames: 1000, maxAnimationPixels: 1e9 });
 * ```
 */
export function withFrames(header: ImageHeader, bytes: Uint8Array, limits: AnimationLimits): ImageHeader {
  const walk = header.format === "gif" ? walkGif(bytes, limits.maxFrames) : walkWebpAnimation(bytes, limits.maxFrames);
  const frames = walk.frames.length;
  if (header.format === "gif" && frames < 2) return header;
  if (frames === 0) throw new ImgserveError("SOURCE_NOT_IMAGE", "the animated WebP has no frames");
  const pixels = frames * header.width * header.height;
  if (pixels > limits.maxAnimationPixels) {
    throw new ImgserveError(
      "ANIMATION_TOO_MANY_PIXELS",
      `the source is ${frames} frames of ${header.width}x${header.height}, over the limit of ` +
        `${limits.maxAnimationPixels} pixels for all frames`,
    );
  }
  return { ...header, frames };
}
