/**
 * A TIFF page decoded to 8-bit RGBA as stored (the pipeline's orient step
 * turns it): its strips or tiles are found from its IFD, each decompressed
 * into a buffer of exactly the bytes its rows need (so a bomb stops there),
 * its predictor undone, and its samples written into the image
 * (samples.ts). JPEG strips and tiles are decoded by libjpeg-turbo with the
 * page's JPEGTables put in front. A strip past the end of the file, or one
 * that decodes short or corrupt, is damage (606 unless `failOn` is "none").
 *
 * @module
 */
import { ImgserveError } from "../../../protocol/error_codes.ts";
import type { FailOn, ImageHeader } from "../../../protocol/plan.ts";
import { MAX_PROFILE_BYTES, profileTooLarge } from "../../../shared/decode_limits.ts";
import { findPage, type Ifd, Tag, tiffFile, TiffLayoutError } from "../../../shared/tiff_ifd.ts";
import { Compression, describePage, Photometric, type TiffPage } from "../../../shared/tiff_page.ts";
import { damaged } from "../damage.ts";
import type { ColourInfo } from "../icc.ts";
import { decodeJpegScaled } from "../jpeg_scaled.ts";
import { isStartOfFrame, walkJpegSegments } from "../../../shared/jpeg_segments.ts";
import type { Pixels } from "../pixels.ts";
import { decompress, DeflateError } from "./decompress.ts";
import { LzwError } from "./lzw.ts";
import { undoPredictor } from "./predictor.ts";
import { type Canvas, unpremultiply, writeBlock } from "./samples.ts";

/** A decoded page and its colour facts (an ICC profile; 4 components for CMYK). */
export interface DecodedTiff {
  image: Pixels;
  colour: ColourInfo;
}

/** The largest JPEGTables accepted: real ones are under 1 KiB. */
const MAX_JPEG_TABLES = 64 * 1024;

/**
 * Decodes the header's page of a TIFF.
 *
 * @example
 * ```ts
 * const { image, colour } = decodeTiff(bytes, header, "warning");
 * ```
 */
export function decodeTiff(bytes: Uint8Array, header: ImageHeader, failOn: FailOn): DecodedTiff {
  const file = tiffFile(bytes);
  let ifd: Ifd | undefined, page: TiffPage;
  try {
    ifd = findPage(file, header.page ?? 0).ifd;
    if (!ifd) throw new TiffLayoutError(`page ${header.page ?? 0} is gone`);
    page = describePage(ifd);
  } catch (err) {
    if (!(err instanceof TiffLayoutError)) throw err;
    throw new ImgserveError("DECODE_FAILED", `the TIFF's directory could not be read again: ${err.message}`);
  }
  const { width, height } = page;
  const [shownWidth, shownHeight] = page.orientation >= 5 ? [height, width] : [width, height];
  if (shownWidth !== header.width || shownHeight !== header.height) {
    throw new Error(`the TIFF page is ${shownWidth}x${shownHeight}, its header said ${header.width}x${header.height}`);
  }
  const canvas: Canvas = {
    data: new Uint8ClampedArray(width * height * 4),
    width,
    page,
    little: file.little,
    palette: page.photometric === Photometric.palette ? paletteOf(ifd, page.bits) : undefined,
  };
  if (page.planar === 2) canvas.data.fill(255);
  const problems: string[] = [];
  for (const block of blocksOf(ifd, page, bytes.length)) {
    const problem = decodeBlock(bytes, ifd, page, canvas, block);
    if (problem) problems.push(problem);
  }
  if (problems.length > 0) {
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : "";
    damaged("tiff", problems[0] + more, failOn, canvas.data);
  }
  if (page.alpha === "associated") unpremultiply(canvas.data);
  const icc = iccProfile(ifd);
  return {
    image: { data: canvas.data as Uint8ClampedArray<ArrayBuffer>, width, height },
    colour: { icc, ...(page.photometric === Photometric.separated ? { components: 4, adobe: false } : {}) },
  };
}

/** The page's ICC profile; one over the cap is METADATA_TOO_LARGE, one past the end of the file is ignored. */
function iccProfile(ifd: Ifd): Uint8Array | undefined {
  try {
    return ifd.bytes(Tag.iccProfile, MAX_PROFILE_BYTES);
  } catch (err) {
    if (!(err instanceof TiffLayoutError)) throw err;
    if (err.needed === undefined) throw profileTooLarge("TIFF", false);
    return undefined;
  }
}

/** One strip or tile: where its bytes are and where its pixels go. */
interface BlockPlace {
  index: number;
  offset: number;
  count: number;
  /** Its full size (a tile's, or a strip's rows) and its part within the image. */
  fullWidth: number;
  fullHeight: number;
  x: number;
  y: number;
  width: number;
  height: number;
  plane: number;
}

/** The page's strips or tiles in file order, each checked against the file's length before it is read. */
function blocksOf(ifd: Ifd, page: TiffPage, fileLength: number): BlockPlace[] {
  const { width, height, tile } = page;
  const blockWidth = tile?.width ?? width;
  const blockHeight = tile?.height ?? page.rowsPerStrip;
  const across = Math.ceil(width / blockWidth);
  const down = Math.ceil(height / blockHeight);
  const planes = page.planar === 2 ? page.samplesPerPixel : 1;
  const expected = across * down * planes;
  // Each block takes at least a byte of the file (a strip of zeros still has its code), so more cannot be there.
  if (expected > fileLength) {
    throw new ImgserveError(
      "DECODE_FAILED",
      `the TIFF claims ${expected} strips or tiles in a ${fileLength}-byte file`,
    );
  }
  const offsets = readCounts(ifd, tile ? Tag.tileOffsets : Tag.stripOffsets, expected);
  const counts = readCounts(ifd, tile ? Tag.tileByteCounts : Tag.stripByteCounts, expected);
  const blocks: BlockPlace[] = [];
  for (let i = 0; i < expected; i++) {
    const plane = planes > 1 ? Math.floor(i / (across * down)) : -1;
    const within = i % (across * down);
    const x = (within % across) * blockWidth;
    const y = Math.floor(within / across) * blockHeight;
    blocks.push({
      index: i,
      offset: offsets[i],
      count: counts[i],
      fullWidth: blockWidth,
      fullHeight: blockHeight,
      x,
      y,
      width: Math.min(blockWidth, width - x),
      height: Math.min(blockHeight, height - y),
      plane,
    });
  }
  return blocks;
}

function readCounts(ifd: Ifd, tag: number, expected: number): number[] {
  try {
    const values = ifd.values(tag, expected * 2 + 16);
    if (values.length < expected) {
      throw new TiffLayoutError(`it lists ${values.length} strips or tiles where its size needs ${expected}`);
    }
    return values;
  } catch (err) {
    if (!(err instanceof TiffLayoutError)) throw err;
    throw new ImgserveError("DECODE_FAILED", `the TIFF's strip or tile table is corrupt: ${err.message}`);
  }
}

/** Decodes one block into the canvas; returns what was wrong with it, if anything. */
function decodeBlock(
  bytes: Uint8Array,
  ifd: Ifd,
  page: TiffPage,
  canvas: Canvas,
  block: BlockPlace,
): string | undefined {
  const what = `${page.tile ? "tile" : "strip"} ${block.index}`;
  const start = Math.min(block.offset, bytes.length);
  const end = Math.min(block.offset + block.count, bytes.length);
  const src = bytes.subarray(start, end);
  let problem = end < block.offset + block.count ? `${what} lies past the end of the file (cut short)` : undefined;
  if (page.compression === Compression.jpeg) {
    return decodeJpegBlock(src, ifd, canvas, block, what) ?? problem;
  }
  const samples = block.plane < 0 ? page.samplesPerPixel : 1;
  // Strips hold only the image's rows, tiles their whole size, edges included.
  const rows = page.tile ? block.fullHeight : block.height;
  const rowBytes = Math.ceil(block.fullWidth * samples * page.bits / 8);
  const size = rowBytes * rows;
  let data: Uint8Array;
  let written: number;
  try {
    [data, written] = decompress(src, page.compression, size, what);
  } catch (err) {
    if (!(err instanceof LzwError || err instanceof DeflateError)) throw err;
    data = new Uint8Array(size);
    written = 0;
    problem ??= `${what} is corrupt: ${err.message}`;
  }
  if (written < size) problem ??= `${what} decodes to ${written} of the ${size} bytes its rows need`;
  if (page.predictor === 2) undoPredictor(data, rowBytes, rows, samples, page.bits, canvas.little);
  writeBlock(canvas, {
    data,
    rowBytes,
    x: block.x,
    y: block.y,
    width: block.width,
    height: block.height,
    plane: block.plane,
  });
  return problem;
}

/** A JPEG strip or tile: JPEGTables (less its EOI) before the block's data (less its SOI), decoded by libjpeg-turbo. */
function decodeJpegBlock(
  src: Uint8Array,
  ifd: Ifd,
  canvas: Canvas,
  block: BlockPlace,
  what: string,
): string | undefined {
  let tables: Uint8Array | undefined;
  try {
    tables = ifd.bytes(Tag.jpegTables, MAX_JPEG_TABLES);
  } catch (err) {
    if (!(err instanceof TiffLayoutError)) throw err;
    throw new ImgserveError("DECODE_FAILED", `the TIFF's JPEG tables are corrupt: ${err.message}`);
  }
  let jpeg = src;
  if (tables && tables.length > 4 && src.length > 2) {
    jpeg = new Uint8Array(tables.length - 2 + src.length - 2);
    jpeg.set(tables.subarray(0, tables.length - 2));
    jpeg.set(src.subarray(2), tables.length - 2);
  }
  // The JPEG's own frame size, not the tile's, decides what libjpeg-turbo allocates: it is checked first.
  const frame = jpegFrameSize(jpeg);
  if (!frame || frame.width > block.fullWidth || frame.height > block.fullHeight) {
    return `${what}'s JPEG data ${frame ? `is ${frame.width}x${frame.height}, larger than its tile` : "has no frame"}`;
  }
  let decoded;
  try {
    decoded = decodeJpegScaled(jpeg, block.fullWidth, block.fullHeight);
  } catch (err) {
    return `${what}'s JPEG data could not be decoded (${(err as Error).message})`;
  }
  const { data, width } = decoded;
  const rows = Math.min(block.height, decoded.height);
  const columns = Math.min(block.width, width);
  for (let r = 0; r < rows; r++) {
    const from = r * width * 4;
    canvas.data.set(data.subarray(from, from + columns * 4), ((block.y + r) * canvas.width + block.x) * 4);
  }
  if (decoded.warned) return `${what}'s JPEG data is damaged`;
  if (rows < block.height || columns < block.width) return `${what}'s JPEG is smaller than the tile it fills`;
  return undefined;
}

/** The width and height of a JPEG's frame header (SOF), if it has one. */
function jpegFrameSize(jpeg: Uint8Array): { width: number; height: number } | undefined {
  let size: { width: number; height: number } | undefined;
  if (jpeg[0] !== 0xff || jpeg[1] !== 0xd8) return undefined;
  walkJpegSegments(jpeg, ({ marker, body }) => {
    if (!isStartOfFrame(marker)) return false;
    if (body.length >= 5) size = { height: (body[1] << 8) | body[2], width: (body[3] << 8) | body[4] };
    return true;
  });
  return size;
}

/** ColorMap: 2^bits reds, then greens, then blues, 16 bits each, as 8-bit RGB triples. */
function paletteOf(ifd: Ifd, bits: number): Uint8Array {
  const entries = 1 << bits;
  let map: number[];
  try {
    map = ifd.values(Tag.colorMap, 3 * entries);
  } catch (err) {
    if (!(err instanceof TiffLayoutError)) throw err;
    throw new ImgserveError("DECODE_FAILED", `the TIFF's colour map is corrupt: ${err.message}`);
  }
  if (map.length < 3 * entries) {
    throw new ImgserveError("DECODE_FAILED", `the TIFF's colour map has ${map.length} of ${3 * entries} entries`);
  }
  const rgb = new Uint8Array(256 * 3);
  for (let i = 0; i < entries; i++) {
    for (let c = 0; c < 3; c++) rgb[i * 3 + c] = (map[c * entries + i] * 255 + 32767) / 65535;
  }
  return rgb;
}
