/**
 * AVIF and HEIC headers: both are HEIF files (ISOBMFF), read from their
 * `meta` box (shared/heif_meta.ts) without decoding. The primary item's
 * `ispe` is the size (a grid's is the whole image's), turned a quarter by
 * `irot` as decoders display it; `irot` then `imir` become the EXIF
 * orientation the worker applies. The primary item's coding decides the
 * format: AV1 is AVIF, HEVC is HEIC, whatever the brands say.
 *
 * @module
 */
import { ImgserveError } from "../../protocol/error_codes.ts";
import type { ImageHeader } from "../../protocol/plan.ts";
import {
  type Box,
  HEIF_HEADER_LIMIT,
  heifBrands,
  HeifCorrupt,
  type HeifMeta,
  itemProperties,
  readHeifMeta,
} from "../../shared/heif_meta.ts";
import { displayedSize } from "./container_headers.ts";

/** Brands of HEIF image files; an MP4 video (isom, mp42) has none of them. */
const IMAGE_BRANDS = new Set(["avif", "avis", "heic", "heix", "heim", "heis", "mif1", "mif2", "miaf", "hevc", "hevx"]);
/** The auxiliary types of an alpha plane, AV1's and HEVC's. */
const ALPHA_URNS = ["urn:mpeg:mpegB:cicp:systems:auxiliary:alpha", "urn:mpeg:hevc:2015:auxid:1"];
/** Codings of an image item, and the format they make. */
const CODINGS: Record<string, "avif" | "heic"> = { av01: "avif", hvc1: "heic" };
/** The most tiles a grid may have (256 x 256, as libheif's default limit). */
const MAX_TILES = 256 * 256;

const ascii = (bytes: Uint8Array, at: number, n: number) => String.fromCharCode(...bytes.subarray(at, at + n));

/**
 * Reads an AVIF or HEIC header. Throws SOURCE_FORMAT_UNSUPPORTED for other
 * ISO media files and other codings, SOURCE_NOT_IMAGE for a corrupt one;
 * calls `short` while the prefix ends before the `meta` box does.
 *
 * @example
 * ```ts
 * readHeif(await Deno.readFile("IMG_0001.HEIC"), () => { throw new Error("short"); });
 * // { format: "heic", width: 3024, height: 4032, orientation: 6, hasAlpha: false, codedPixels: 12582912 }
 * ```
 */
export function readHeif(bytes: Uint8Array, short: () => never): ImageHeader {
  let meta: HeifMeta | undefined;
  try {
    // A video (MP4, QuickTime) is told by its brands before its meta box, which it may not have.
    const brands = heifBrands(bytes);
    if (brands && !brands.some((b) => IMAGE_BRANDS.has(b))) {
      throw new ImgserveError(
        "SOURCE_FORMAT_UNSUPPORTED",
        "the source is an ISO media file but not an AVIF or HEIC image",
      );
    }
    meta = readHeifMeta(bytes, short);
  } catch (err) {
    if (err instanceof HeifCorrupt) corrupt("HEIF", err.message);
    throw err;
  }
  if (!meta) {
    if (bytes.length >= HEIF_HEADER_LIMIT) corrupt("HEIF", "no image header in its first MiB");
    return short();
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const type = meta.itemTypes.get(meta.primary);
  const tiles = meta.references.get(meta.primary)?.get("dimg") ?? [];
  const coding = type === "grid" ? meta.itemTypes.get(tiles[0]) : type;
  // Files whose iinf this reader skips (infe before version 2) were AVIFs before; they stay so.
  const format = coding === undefined && meta.brands.includes("avif") ? "avif" : CODINGS[coding ?? ""];
  const name = format === "heic" ? "HEIC" : "AVIF";
  if (!format) {
    throw new ImgserveError(
      "SOURCE_FORMAT_UNSUPPORTED",
      `the HEIF's image is coded as "${(coding ?? "nothing").replace(/[^\x20-\x7e]/g, "?")}"; ` +
        "only HEVC (HEIC) and AV1 (AVIF) images are supported",
    );
  }
  const mine = itemProperties(meta, meta.primary);
  const size = ispe(view, mine, name);
  const irot = mine.find((p) => p.type === "irot");
  const imir = mine.find((p) => p.type === "imir");
  const orientation = exifOrientationOf(
    irot ? bytes[irot.start] & 3 : 0,
    imir ? bytes[imir.start] & 1 : undefined,
  );
  const hasAlpha = meta.properties.some((p) =>
    p.type === "auxC" && ALPHA_URNS.some((urn) => ascii(bytes, p.start + 4, urn.length) === urn)
  );
  const header: ImageHeader = { format, ...displayedSize(size.width, size.height, orientation), orientation, hasAlpha };
  if (type === "grid") header.codedPixels = gridPixels(meta, view, tiles, size, name);
  return header;
}

function ispe(view: DataView, properties: Box[], name: string): { width: number; height: number } {
  const box = properties.find((p) => p.type === "ispe");
  if (!box) return corrupt(name, "its image has no ispe (size) property");
  const width = view.getUint32(box.start + 4);
  const height = view.getUint32(box.start + 8);
  if (width < 1 || height < 1) corrupt(name, "its ispe gives a zero dimension");
  return { width, height };
}

/**
 * The pixels a grid's tiles decode to (each tile whole), after checking
 * that they cover the image and no more than a row and a column beyond it,
 * as the grid's rows and columns say: the decoder makes every tile before
 * it crops, so this, not the image's size, bounds its work.
 */
function gridPixels(
  meta: HeifMeta,
  view: DataView,
  tiles: number[],
  size: { width: number; height: number },
  name: string,
): number {
  if (tiles.length === 0 || tiles.length > MAX_TILES) corrupt(name, `its grid has ${tiles.length} tiles`);
  const tile = ispe(view, itemProperties(meta, tiles[0]), name);
  const columns = Math.ceil(size.width / tile.width);
  const rows = Math.ceil(size.height / tile.height);
  if (columns * rows !== tiles.length) {
    corrupt(name, `its ${size.width}x${size.height} grid of ${tile.width}x${tile.height} tiles has ${tiles.length}`);
  }
  for (const other of tiles) {
    const { width, height } = ispe(view, itemProperties(meta, other), name);
    if (width !== tile.width || height !== tile.height) corrupt(name, "its grid's tiles differ in size");
  }
  return tiles.length * tile.width * tile.height;
}

const corrupt = (format: string, why: string): never => {
  throw new ImgserveError("SOURCE_NOT_IMAGE", `the ${format} is corrupt: ${why}`);
};

/**
 * The EXIF orientation that displays stored pixels as HEIF's `irot`
 * (quarter turns anticlockwise) followed by `imir` (axis 0: top and
 * bottom exchanged, axis 1: left and right) would.
 *
 * @example
 * ```ts
 * exifOrientationOf(3, undefined); // 6: turned back by a quarter turn clockwise
 * ```
 */
export function exifOrientationOf(quarterTurns: number, mirrorAxis: number | undefined): number {
  const turned = [1, 8, 3, 6][quarterTurns & 3];
  if (mirrorAxis === undefined) return turned;
  // [axis 0: top and bottom exchanged, axis 1: left and right], as libavif and libheif read it.
  const table: Record<number, [number, number]> = { 1: [4, 2], 8: [5, 7], 3: [2, 4], 6: [7, 5] };
  return table[turned][mirrorAxis];
}
