/**
 * The accept step that reads the opened source only as far as its header
 * needs (an SVG whole, to cost and check it; a GIF or an animated WebP
 * whole, to count its frames), and refuses a source over the pixel, frame
 * or animation limits before anything is decoded.
 *
 * @module
 */
import { concat } from "../../../shared/bytes.ts";
import { ImgserveError } from "../../../protocol/error_codes.ts";
import { assertSafeSvg, NeedMoreBytes, readHeader } from "../../image/header.ts";
import type { ImageHeader } from "../../../protocol/plan.ts";
import { mayBeAnimated, withFrames } from "../../image/animation_header.ts";
import { sourcePixelLimit } from "../../../protocol/plan_memory.ts";
import { readAll } from "../../transport/mod.ts";
import type { JobContext } from "../context.ts";
import type { Admission } from "./job.ts";

/** Reads the source's header, checking its pixels against --max-source-pixels (less for AVIF and HEIC: sourcePixelLimit). */
export async function readSourceHeader(ctx: JobContext, job: Admission): Promise<void> {
  const { limits } = ctx.config;
  const download = job.download!;
  const page = job.request.outputs[0].args.page ?? 0;
  const { header, prefix } = await headerOf(download.stream, limits.maxSourceBytes, page);
  if (page > 0 && header.format !== "tiff") {
    throw new ImgserveError(
      "PAGE_NOT_FOUND",
      `args.page ${page} does not exist: a ${header.format} source has one page`,
    );
  }
  const limit = sourcePixelLimit(header, limits.maxSourcePixels);
  if (header.width * header.height > limit) {
    const name = header.format === "heic" ? "a HEIC" : "an AVIF";
    const kind = limit < limits.maxSourcePixels ? ` for ${name}${header.hasAlpha ? " with alpha" : ""}` : "";
    throw new ImgserveError(
      "TOO_MANY_PIXELS",
      `the source is ${header.width}x${header.height}, over the limit of ${limit} pixels${kind}`,
    );
  }
  if ((header.codedPixels ?? 0) > limit) {
    throw new ImgserveError(
      "TOO_MANY_PIXELS",
      `the source's grid tiles are ${header.codedPixels} pixels in all, over the limit of ${limit} pixels`,
    );
  }
  // Only a WebP's first bytes (its VP8X flags) are looked at, so the prefix is joined only when its first piece is tiny.
  const head = prefix[0].length >= 32 || prefix.length === 1 ? prefix[0] : concat(prefix);
  if (header.format === "svg") {
    download.prefix = [await readWholeSvg(download.stream, prefix, limits.maxSvgBytes)];
  } else if (mayBeAnimated(header, head)) {
    // Frames are only counted by walking the whole file; the walk skips their data.
    const whole = await readAll(download.stream, limits.maxSourceBytes, prefix);
    download.prefix = [whole];
    job.header = withFrames(header, whole, limits);
    return;
  } else {
    download.prefix = prefix;
  }
  job.header = header;
}

/** Reads a whole SVG at validation, so its size and safety are known before the reply. */
async function readWholeSvg(
  stream: ReadableStream<Uint8Array>,
  prefix: Uint8Array[],
  maxBytes: number,
): Promise<Uint8Array> {
  let svg: Uint8Array;
  try {
    svg = await readAll(stream, maxBytes, prefix);
  } catch (err) {
    if (err instanceof ImgserveError && err.name === "SOURCE_TOO_LARGE") {
      throw new ImgserveError("SVG_TOO_LARGE", `the SVG is larger than the limit of ${maxBytes} bytes`);
    }
    throw err;
  }
  assertSafeSvg(svg);
  return svg;
}

/**
 * Reads just enough of the source to parse its header; the chunks read are
 * returned so the download can go on from there.
 */
async function headerOf(
  stream: ReadableStream<Uint8Array>,
  maxBytes: number,
  page: number,
): Promise<{ header: ImageHeader; prefix: Uint8Array[] }> {
  const prefix: Uint8Array[] = [];
  let size = 0;
  // A TIFF says how far its directory is: the chunks before it are not parsed again one by one.
  let needed = 0;
  const reader = stream.getReader();
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (!done) {
        prefix.push(value);
        size += value.byteLength;
        if (size > maxBytes) {
          throw new ImgserveError("SOURCE_TOO_LARGE", `the source is larger than the limit of ${maxBytes} bytes`);
        }
      }
      if (!done && size < needed) continue;
      try {
        // One chunk is parsed as it is: this runs for every chunk until the header parses.
        const bytes = prefix.length === 1 ? prefix[0] : concat(prefix, size);
        return { header: readHeader(bytes, done, page), prefix };
      } catch (err) {
        if (!(err instanceof NeedMoreBytes)) throw err;
        needed = err.needed ?? 0;
      }
    }
  } finally {
    reader.releaseLock();
  }
}
