/**
 * A TIFF page's header from a prefix of the file: its IFD is found by
 * walking the chain from the file header, which may point anywhere in the
 * file (libtiff writes the directory after the pixels), so a prefix too
 * short says how many bytes it needs rather than being parsed again at
 * every chunk.
 *
 * @module
 */
import { ImgserveError } from "../../protocol/error_codes.ts";
import type { ImageHeader } from "../../protocol/plan.ts";
import { findPage, isBigTiff, isTiff, MAX_PAGES, tiffFile, TiffLayoutError } from "../../shared/tiff_ifd.ts";
import { describePage, largestBlockBytes } from "../../shared/tiff_page.ts";
import { displayedSize } from "./container_headers.ts";

/**
 * Reads page `page` (0 is the first) of a classic TIFF. `short(needed)` is
 * called when the first `needed` bytes of the file would let the read go
 * on; once the file is `complete`, a directory past its end is corrupt.
 *
 * @example
 * ```ts
 * readTiff(bytes, true, 0, () => { throw new Error("short"); }); // { format: "tiff", width, height, … }
 * ```
 */
export function readTiff(
  bytes: Uint8Array,
  complete: boolean,
  page: number,
  short: (needed: number) => never,
): ImageHeader {
  if (!isTiff(bytes) && !isBigTiff(bytes)) {
    throw new ImgserveError("SOURCE_NOT_IMAGE", "the source starts like a TIFF but has no TIFF header");
  }
  if (isBigTiff(bytes)) {
    throw new ImgserveError("TIFF_UNSUPPORTED", "the TIFF is a BigTIFF (64-bit offsets), which is not supported");
  }
  try {
    const { ifd, pages } = findPage(tiffFile(bytes), page);
    if (!ifd) {
      throw new ImgserveError(
        "PAGE_NOT_FOUND",
        pages >= MAX_PAGES
          ? `args.page ${page} is past the ${MAX_PAGES} pages a TIFF is read to`
          : `args.page ${page} does not exist: the TIFF has ${pages} page${pages === 1 ? "" : "s"} (the first is 0)`,
      );
    }
    const facts = describePage(ifd);
    return {
      format: "tiff",
      ...displayedSize(facts.width, facts.height, facts.orientation),
      orientation: facts.orientation,
      hasAlpha: facts.alpha !== "none",
      ...(page > 0 ? { page } : {}),
      blockBytes: largestBlockBytes(facts),
    };
  } catch (err) {
    if (!(err instanceof TiffLayoutError)) throw err;
    if (err.needed !== undefined && !complete) short(err.needed);
    throw new ImgserveError("SOURCE_NOT_IMAGE", `the TIFF header is corrupt: ${err.message}`);
  }
}
