/**
 * One TIFF page as imgserve reads it: its size, samples, coding and layout
 * from its IFD, checked against what the decoder supports, so an
 * unsupported page is refused from its header (TIFF_UNSUPPORTED) before
 * the reply. The strip and tile offsets are not read here: they may lie
 * past the prefix the server has.
 *
 * @module
 */
import { ImgserveError } from "../protocol/error_codes.ts";
import type { Ifd } from "./tiff_ifd.ts";
import { Tag } from "./tiff_ifd.ts";

/**
 * The bytes of the page's largest strip or tile once decompressed (a JPEG
 * one as the RGBA libjpeg-turbo gives): what the decoder holds beside the
 * image's RGBA while it decodes.
 *
 * @example
 * ```ts
 * largestBlockBytes(describePage(ifd)); // 5640 * 3 for one-row strips of 8-bit RGB
 * ```
 */
export function largestBlockBytes(page: TiffPage): number {
  const width = page.tile?.width ?? page.width;
  const rows = page.tile?.height ?? page.rowsPerStrip;
  if (page.compression === Compression.jpeg) return width * rows * 4;
  const samples = page.planar === 2 ? 1 : page.samplesPerPixel;
  return Math.ceil(width * samples * page.bits / 8) * rows;
}

/** Compression values the decoder reads. */
export const Compression = { none: 1, lzw: 5, oldJpeg: 6, jpeg: 7, deflate: 8, packBits: 32773, adobeDeflate: 32946 };
/** Photometric interpretations the decoder reads. */
export const Photometric = { minIsWhite: 0, minIsBlack: 1, rgb: 2, palette: 3, separated: 5, ycbcr: 6 };

/** A page's facts, as the decoder needs them. */
export interface TiffPage {
  width: number;
  height: number;
  /** Bits of every sample (they are all the same here). */
  bits: number;
  samplesPerPixel: number;
  /** Samples that carry colour: 1 (grey, palette), 3 (RGB, YCbCr) or 4 (CMYK). */
  colourSamples: number;
  photometric: number;
  compression: number;
  /** 1 chunky (samples interleaved), 2 planar (a plane of strips or tiles per sample). */
  planar: number;
  predictor: number;
  orientation: number;
  /** The extra sample after the colour ones that is alpha: premultiplied or not; none without one. */
  alpha: "none" | "associated" | "unassociated";
  /** Tiles' size, or undefined for strips. */
  tile?: { width: number; height: number };
  /** Rows per strip (the whole height when the tag is absent). */
  rowsPerStrip: number;
}

const COMPRESSIONS = new Set(Object.values(Compression).filter((c) => c !== Compression.oldJpeg));

const unsupported = (what: string) =>
  new ImgserveError("TIFF_UNSUPPORTED", `the TIFF uses ${what}, which is not supported`);

/**
 * Reads and checks a page's facts from its IFD; throws TIFF_UNSUPPORTED for
 * what the decoder does not read, SOURCE_NOT_IMAGE for a zero or absent
 * size. TiffLayoutError passes through (more bytes may be needed).
 *
 * @example
 * ```ts
 * const page = describePage(findPage(tiffFile(bytes), 0).ifd!);
 * ```
 */
export function describePage(ifd: Ifd): TiffPage {
  const width = ifd.value(Tag.width, 0);
  const height = ifd.value(Tag.height, 0);
  if (width === 0 || height === 0) {
    throw new ImgserveError("SOURCE_NOT_IMAGE", "the TIFF header gives no size or a zero one");
  }
  const samplesPerPixel = ifd.value(Tag.samplesPerPixel, 1);
  if (samplesPerPixel < 1 || samplesPerPixel > 8) throw unsupported(`${samplesPerPixel} samples a pixel`);
  const bitList = ifd.values(Tag.bitsPerSample, 8);
  const bits = bitList[0] ?? 1;
  if (bitList.some((b) => b !== bits)) throw unsupported("samples of different bit depths");
  const compression = ifd.value(Tag.compression, Compression.none);
  if (compression === Compression.oldJpeg) {
    throw unsupported("old-style JPEG compression (6); convert it to compression 7 (tiffcp -c jpeg)");
  }
  if (!COMPRESSIONS.has(compression)) throw unsupported(`compression ${compression}`);
  const photometric = ifd.value(Tag.photometric, -1);
  const colourSamples = colourSamplesOf(photometric, compression);
  if (samplesPerPixel < colourSamples) throw unsupported(`${samplesPerPixel} samples for photometric ${photometric}`);
  const sampleFormat = ifd.value(Tag.sampleFormat, 1);
  if (sampleFormat !== 1) throw unsupported(sampleFormat === 2 ? "signed samples" : "floating-point samples");
  const allowed = photometric === Photometric.palette ? [1, 2, 4, 8] : compression === Compression.jpeg ? [8] : [
    ...(colourSamples === 1 ? [1, 2, 4] : []),
    8,
    16,
  ];
  if (!allowed.includes(bits)) throw unsupported(`${bits}-bit samples for photometric ${photometric}`);
  if (compression === Compression.jpeg && photometric === Photometric.separated) throw unsupported("JPEG-coded CMYK");
  const planar = ifd.value(Tag.planarConfig, 1);
  if (planar !== 1 && planar !== 2) throw unsupported(`planar configuration ${planar}`);
  if (planar === 2 && (bits < 8 || compression === Compression.jpeg)) {
    throw unsupported("separate planes of this bit depth or coding");
  }
  const predictor = ifd.value(Tag.predictor, 1);
  if (predictor !== 1 && predictor !== 2) throw unsupported(`predictor ${predictor}`);
  if (predictor === 2 && bits < 8) throw unsupported(`the horizontal predictor on ${bits}-bit samples`);
  if (ifd.value(Tag.fillOrder, 1) !== 1) throw unsupported("the reversed bit order (FillOrder 2)");
  const extras = ifd.values(Tag.extraSamples, 8);
  const first = samplesPerPixel > colourSamples ? extras[0] ?? 0 : undefined;
  const alpha = first === undefined || photometric === Photometric.separated
    ? "none"
    : first === 1
    ? "associated"
    : "unassociated";
  const orientation = ifd.value(Tag.orientation, 1);
  const tiled = ifd.has(Tag.tileWidth) || ifd.has(Tag.tileOffsets);
  const tile = tiled ? { width: ifd.value(Tag.tileWidth, 0), height: ifd.value(Tag.tileLength, 0) } : undefined;
  // A tile may overhang the image, but not by more than a tile's worth of a small image: its buffer is allocated whole.
  if (tile && (tile.width === 0 || tile.height === 0 || tile.width * tile.height > 4 * width * height + (1 << 20))) {
    throw new ImgserveError("SOURCE_NOT_IMAGE", `the TIFF's tiles are ${tile.width}x${tile.height}`);
  }
  const rowsPerStrip = Math.min(height, Math.max(1, ifd.value(Tag.rowsPerStrip, height)));
  return {
    width,
    height,
    bits,
    samplesPerPixel,
    colourSamples,
    photometric,
    compression,
    planar,
    predictor,
    orientation: orientation >= 1 && orientation <= 8 ? orientation : 1,
    alpha,
    tile,
    rowsPerStrip,
  };
}

function colourSamplesOf(photometric: number, compression: number): number {
  switch (photometric) {
    case Photometric.minIsWhite:
    case Photometric.minIsBlack:
    case Photometric.palette:
      return 1;
    case Photometric.rgb:
      return 3;
    case Photometric.separated:
      return 4;
    case Photometric.ycbcr:
      // Only JPEG's own colour conversion is used: uncompressed YCbCr is subsampled in TIFF's own way.
      if (compression === Compression.jpeg) return 3;
      throw unsupported("YCbCr samples outside JPEG compression");
    default:
      throw unsupported(`photometric interpretation ${photometric}`);
  }
}
