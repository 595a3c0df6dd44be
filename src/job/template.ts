/**
 * dstURL tags: `{$width}`, `{$height}` of the result, `{$basename}`,
 * `{$extension}` (alias `{$ext}`) of the source file name, `{$format}`: the
 * result's extension, `{$frames}`: the result's frame count.
 *
 * @module
 */
import { type ErrorName, ImgserveError } from "../../protocol/error_codes.ts";

/** The values the tags stand for. */
export interface TagValues {
  width: number;
  height: number;
  basename: string;
  extension: string;
  /** The result format's extension (`jpg`, `png`, `webp`, `avif`, `gif`). */
  format: string;
  /** The result's frames: 1 unless it is animated. */
  frames?: number;
}

const TAG = /\{\$([^}]*)\}/g;
const KNOWN = new Set(["width", "height", "basename", "extension", "ext", "format", "frames"]);

/**
 * The template with every tag, known or not, stood in by `x`: what the
 * destination URL looks like to a parser before the job fills its tags.
 *
 * @example
 * ```ts
 * withTagsStoodIn("ftp://h/{$basename}.jpg"); // "ftp://h/x.jpg"
 * ```
 */
export function withTagsStoodIn(template: string): string {
  return template.replace(TAG, "x");
}

/** Throws UNKNOWN_TAG for any `{$...}` tag that is not one of ours. */
export function checkTags(template: string): void {
  for (const [, name] of template.matchAll(TAG)) {
    if (!KNOWN.has(name)) {
      throw new ImgserveError(
        "UNKNOWN_TAG",
        `dstURL has an unknown tag {$${name}}; known tags are {$width}, {$height}, {$basename}, {$extension}, {$ext}, {$format} and {$frames}`,
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
      case "frames":
        return String(values.frames ?? 1);
      default:
        return values.extension;
    }
  });
}

/** C0 and C1 controls, DEL included: no file or host name has them, and NUL cuts a path short. */
const CONTROL = /\p{Cc}/u;

/**
 * Refuses text no name can hold: control characters (written or
 * percent-encoded) and lone UTF-16 surrogates, which JSON allows but a file
 * system would store as U+FFFD, so the name written would not be the one
 * replied.
 */
export function checkNameText(key: string, value: string, name: ErrorName = "BAD_URL"): void {
  let decoded = value;
  try {
    decoded = decodeURIComponent(value);
  } catch {
    // a malformed escape is the transport's to refuse; the raw text is still checked
  }
  for (const text of [value, decoded]) {
    const control = CONTROL.exec(text);
    if (control) {
      const at = `U+${control[0].charCodeAt(0).toString(16).padStart(4, "0").toUpperCase()}`;
      throw new ImgserveError(name, `${key} holds the control character ${at}; names cannot contain it`);
    }
    if (!text.isWellFormed()) {
      throw new ImgserveError(name, `${key} holds an unpaired UTF-16 surrogate, which no file name can hold`);
    }
  }
}

const MAX_SEGMENT_BYTES = 255;
const MAX_URL_LENGTH = 4096;
/**
 * Bytes the transports add to a file name for the temporary file it is
 * written as before the rename: `.NAME.1234abcd.tmp` (file) and
 * `.NAME.imgserve-tmp-1234abcd` (FTP).
 */
const TEMP_NAME_BYTES: Record<string, number> = { "file:": 14, "ftp:": 23, "ftps:": 23, "ftpes:": 23 };

/**
 * Parses the substituted dstURL, refusing names no file system or server
 * would take (a segment over 255 bytes, or a file name whose temporary name
 * would be, a URL over 4096 characters, control characters).
 */
export function parseDestination(dst: string): URL {
  checkNameText("dstURL", dst, "BAD_DESTINATION_NAME");
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
  const segments = url.pathname.split("/");
  const lastLimit = MAX_SEGMENT_BYTES - (TEMP_NAME_BYTES[url.protocol] ?? 0);
  for (const [i, segment] of segments.entries()) {
    const limit = i === segments.length - 1 ? lastLimit : MAX_SEGMENT_BYTES;
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      throw new ImgserveError("BAD_URL", `dstURL has a malformed percent-encoding in "${segment}"`);
    }
    if (new TextEncoder().encode(decoded).length > limit) {
      throw new ImgserveError(
        "BAD_DESTINATION_NAME",
        limit === MAX_SEGMENT_BYTES
          ? `a dstURL path segment is longer than ${MAX_SEGMENT_BYTES} bytes`
          : `the dstURL file name is longer than ${limit} bytes (${MAX_SEGMENT_BYTES} with the temporary name it is written under)`,
      );
    }
  }
  return url;
}
