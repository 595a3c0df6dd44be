/**
 * dstURL tags: `{$width}`, `{$height}` of the result, `{$basename}`,
 * `{$extension}` (alias `{$ext}`) of the source file name, `{$format}`: the
 * result's extension.
 *
 * @module
 */
import { ImgserveError } from "./errors.ts";

/** The values the tags stand for. */
export interface TagValues {
  width: number;
  height: number;
  basename: string;
  extension: string;
  /** The result format's extension (`jpg`, `png`, `webp`, `avif`). */
  format: string;
}

const TAG = /\{\$([^}]*)\}/g;
const KNOWN = new Set(["width", "height", "basename", "extension", "ext", "format"]);

/** Throws UNKNOWN_TAG for any `{$...}` tag that is not one of ours. */
export function checkTags(template: string): void {
  for (const [, name] of template.matchAll(TAG)) {
    if (!KNOWN.has(name)) {
      throw new ImgserveError(
        "UNKNOWN_TAG",
        `dstURL has an unknown tag {$${name}}; known tags are {$width}, {$height}, {$basename}, {$extension}, {$ext} and {$format}`,
      );
    }
  }
}

/**
 * The base name and extension of a URL's last path segment, kept
 * percent-encoded as they stand in the URL so they can go into another URL.
 *
 * @example
 * ```ts
 * nameParts(new URL("http://h/a/Ex.png")); // { basename: "Ex", extension: "png" }
 * ```
 */
export function nameParts(url: URL): { basename: string; extension: string } {
  const segment = url.pathname.split("/").pop() ?? "";
  const dot = segment.lastIndexOf(".");
  if (dot <= 0) return { basename: segment, extension: "" };
  return { basename: segment.slice(0, dot), extension: segment.slice(dot + 1) };
}

/** The template with every tag replaced. */
export function substituteTags(template: string, values: TagValues): string {
  checkTags(template);
  return template.replace(TAG, (_, name: string) => {
    switch (name) {
      case "width":
        return String(values.width);
      case "height":
        return String(values.height);
      case "basename":
        return values.basename;
      case "format":
        return values.format;
      default:
        return values.extension;
    }
  });
}

const MAX_SEGMENT_BYTES = 255;
const MAX_URL_LENGTH = 4096;

/**
 * Parses the substituted dstURL, refusing names no file system or server
 * would take (a segment over 255 bytes, a URL over 4096 characters).
 */
export function parseDestination(dst: string): URL {
  if (dst.length > MAX_URL_LENGTH) {
    throw new ImgserveError(
      "BAD_DESTINATION_NAME",
      `dstURL is longer than ${MAX_URL_LENGTH} characters once its tags are filled in`,
    );
  }
  let url: URL;
  try {
    url = new URL(dst);
  } catch {
    throw new ImgserveError("BAD_URL", `dstURL "${dst}" is not a valid URL once its tags are filled in`);
  }
  for (const segment of url.pathname.split("/")) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      throw new ImgserveError("BAD_URL", `dstURL has a malformed percent-encoding in "${segment}"`);
    }
    if (new TextEncoder().encode(decoded).length > MAX_SEGMENT_BYTES) {
      throw new ImgserveError(
        "BAD_DESTINATION_NAME",
        `a dstURL path segment is longer than ${MAX_SEGMENT_BYTES} bytes`,
      );
    }
  }
  return url;
}
