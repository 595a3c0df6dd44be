/**
 * Dimensions of WebP, AVIF, GIF and BMP sources from their first bytes:
 * WebP's VP8/VP8L/VP8X chunk, AVIF's `ispe` property of the primary item
 * (turned by `irot`, mirrors by `imir` noted), GIF's logical screen, BMP's
 * info header. Like the PNG and JPEG readers, nothing here decodes pixels.
 *
 * @module
 */
import { ImgserveError } from "../../protocol/error_codes.ts";
import type { ImageHeader } from "../../protocol/plan.ts";

/** Stops reading: the prefix is too short (`short`) or the file is not what it claims. */
type Short = () => never;

const corrupt = (format: string, why: string): never => {
  throw new ImgserveError("SOURCE_NOT_IMAGE", `the ${format} is corrupt: ${why}`);
};

const ascii = (bytes: Uint8Array, at: number, n: number) => String.fromCharCode(...bytes.subarray(at, at + n));

/** RIFF "WEBP": the first chunk says which of the three layouts it is. */
export function readWebp(bytes: Uint8Array, short: Short): ImageHeader {
  if (bytes.length < 30) short();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const chunk = ascii(bytes, 12, 4);
  const header = (width: number, height: number, hasAlpha: boolean): ImageHeader => {
    if (width < 1 || height < 1) corrupt("WebP", "its header gives a zero dimension");
    return { format: "webp", width, height, orientation: 1, hasAlpha };
  };
  if (chunk === "VP8 ") {
    // Frame tag (3 bytes), start code 9d 01 2a, then 14-bit sides.
    if (bytes[23] !== 0x9d || bytes[24] !== 0x01 || bytes[25] !== 0x2a) corrupt("WebP", "bad VP8 start code");
    return header(view.getUint16(26, true) & 0x3fff, view.getUint16(28, true) & 0x3fff, false);
  }
  if (chunk === "VP8L") {
    if (bytes[20] !== 0x2f) corrupt("WebP", "bad VP8L signature");
    const bits = view.getUint32(21, true);
    return header((bits & 0x3fff) + 1, ((bits >>> 14) & 0x3fff) + 1, ((bits >>> 28) & 1) === 1);
  }
  if (chunk === "VP8X") {
    // An animated one (flag 0x02) has its frames counted from the whole file (src/image/animation_header.ts).
    const flags = bytes[20];
    const width = (bytes[24] | (bytes[25] << 8) | (bytes[26] << 16)) + 1;
    const height = (bytes[27] | (bytes[28] << 8) | (bytes[29] << 16)) + 1;
    return header(width, height, (flags & 0x10) !== 0);
  }
  return corrupt("WebP", `unknown first chunk "${chunk.replace(/[^\x20-\x7e]/g, "?")}"`);
}

/** GIF87a/89a: the logical screen, which the first frame is drawn on. */
export function readGif(bytes: Uint8Array, short: Short): ImageHeader {
  if (bytes.length < 10) short();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = ascii(bytes, 0, 6);
  if (version !== "GIF87a" && version !== "GIF89a") corrupt("GIF", `unknown version "${version}"`);
  const width = view.getUint16(6, true);
  const height = view.getUint16(8, true);
  if (width < 1 || height < 1) corrupt("GIF", "its logical screen has a zero dimension");
  // Transparency is only known from a later extension block.
  return { format: "gif", width, height, orientation: 1, hasAlpha: true };
}

/** BMP: the info header after the 14-byte file header (OS/2 core header too). */
export function readBmp(bytes: Uint8Array, short: Short): ImageHeader {
  if (bytes.length < 30) short();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const infoSize = view.getUint32(14, true);
  let width: number, height: number, bpp: number;
  if (infoSize === 12) {
    width = view.getUint16(18, true);
    height = view.getUint16(20, true);
    bpp = view.getUint16(24, true);
  } else if (infoSize >= 40 && infoSize <= 124) {
    width = view.getInt32(18, true);
    // Negative: stored top-down.
    height = Math.abs(view.getInt32(22, true));
    bpp = view.getUint16(28, true);
  } else {
    return corrupt("BMP", `unknown info header size ${infoSize}`);
  }
  if (width < 1 || height < 1) corrupt("BMP", "its header gives a zero or negative dimension");
  return { format: "bmp", width, height, orientation: 1, hasAlpha: bpp === 32 };
}

/** How many bytes of an AVIF we read at most to find its header. */
const AVIF_HEADER_LIMIT = 1 << 20;

interface Box {
  type: string;
  /** Payload start and end (exclusive). */
  start: number;
  end: number;
}

function* boxes(bytes: Uint8Array, from: number, to: number, short: Short): Generator<Box> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = from;
  while (at + 8 <= to) {
    let size = view.getUint32(at);
    const type = ascii(bytes, at + 4, 4);
    let start = at + 8;
    if (size === 1) {
      if (at + 16 > bytes.length) short();
      size = Number(view.getBigUint64(at + 8));
      start = at + 16;
    } else if (size === 0) size = to - at;
    if (size < start - at) corrupt("AVIF", `box "${type}" has an impossible size`);
    yield { type, start, end: at + size };
    at += size;
  }
  if (at > to && to < bytes.length) corrupt("AVIF", "a box runs past its parent");
}

/**
 * ISOBMFF with an AVIF brand: the primary item's `ispe`, turned a quarter
 * by `irot` as decoders display it. The result's `orientation` is the EXIF
 * value with the same effect as the item's `irot` then `imir`, which the
 * worker applies to the decoded pixels.
 */
export function readAvif(bytes: Uint8Array, short: Short): ImageHeader {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const need = (end: number) => {
    if (end > bytes.length) {
      if (bytes.length >= AVIF_HEADER_LIMIT) corrupt("AVIF", "no image header in its first MiB");
      short();
    }
  };
  let meta: Box | undefined;
  for (const box of boxes(bytes, 0, bytes.length, short)) {
    if (box.type === "ftyp") {
      need(box.end);
      const brands = [ascii(bytes, box.start, 4)];
      for (let at = box.start + 8; at + 4 <= box.end; at += 4) brands.push(ascii(bytes, at, 4));
      if (!brands.includes("avif") && !brands.includes("avis")) {
        throw new ImgserveError(
          "SOURCE_FORMAT_UNSUPPORTED",
          "the source is an ISO media file but not AVIF (HEIC and others are not supported)",
        );
      }
    } else if (box.type === "meta") {
      need(box.end);
      meta = box;
      break;
    }
  }
  if (!meta) return short();
  let primary = 1;
  const props: Box[] = [];
  const assoc = new Map<number, number[]>();
  let alpha = false;
  // meta is a FullBox: 4 bytes of version and flags first.
  for (const box of boxes(bytes, meta.start + 4, meta.end, short)) {
    if (box.type === "pitm") {
      primary = bytes[box.start] === 0 ? view.getUint16(box.start + 4) : view.getUint32(box.start + 4);
    }
    if (box.type === "iprp") {
      for (const sub of boxes(bytes, box.start, box.end, short)) {
        if (sub.type === "ipco") props.push(...boxes(bytes, sub.start, sub.end, short));
        if (sub.type === "ipma") readIpma(view, sub, assoc);
      }
    }
  }
  for (const p of props) {
    if (p.type === "auxC" && ascii(bytes, p.start + 4, 44).startsWith("urn:mpeg:mpegB:cicp:systems:auxiliary:alpha")) {
      alpha = true;
    }
  }
  const mine = (assoc.get(primary) ?? []).map((i) => props[i - 1]).filter((p) => p !== undefined);
  const ispe = mine.find((p) => p.type === "ispe");
  if (!ispe) return corrupt("AVIF", "its primary image has no ispe (size) property");
  const storedWidth = view.getUint32(ispe.start + 4);
  const storedHeight = view.getUint32(ispe.start + 8);
  if (storedWidth < 1 || storedHeight < 1) corrupt("AVIF", "its ispe gives a zero dimension");
  const irot = mine.find((p) => p.type === "irot");
  const imir = mine.find((p) => p.type === "imir");
  const orientation = exifOrientationOf(
    irot ? bytes[irot.start] & 3 : 0,
    imir ? bytes[imir.start] & 1 : undefined,
  );
  return { format: "avif", ...displayedSize(storedWidth, storedHeight, orientation), orientation, hasAlpha: alpha };
}

function readIpma(view: DataView, box: Box, assoc: Map<number, number[]>): void {
  const version = view.getUint8(box.start);
  const wide = (view.getUint8(box.start + 3) & 1) === 1;
  let at = box.start + 4;
  const count = view.getUint32(at);
  at += 4;
  for (let i = 0; i < count && at < box.end; i++) {
    const item = version < 1 ? view.getUint16(at) : view.getUint32(at);
    at += version < 1 ? 2 : 4;
    const n = view.getUint8(at++);
    const list: number[] = [];
    for (let k = 0; k < n; k++) {
      list.push(wide ? view.getUint16(at) & 0x7fff : view.getUint8(at) & 0x7f);
      at += wide ? 2 : 1;
    }
    assoc.set(item, list);
  }
}

/**
 * The EXIF orientation that displays stored pixels as HEIF's `irot`
 * (quarter turns anticlockwise) followed by `imir` (axis 0: top and
 * bottom exchanged, axis 1: left and right) would.
 */
export function exifOrientationOf(quarterTurns: number, mirrorAxis: number | undefined): number {
  const turned = [1, 8, 3, 6][quarterTurns & 3];
  if (mirrorAxis === undefined) return turned;
  // [axis 0: top and bottom exchanged, axis 1: left and right], as libavif and libheif read it.
  const table: Record<number, [number, number]> = { 1: [4, 2], 8: [5, 7], 3: [2, 4], 6: [7, 5] };
  return table[turned][mirrorAxis];
}

/**
 * Stored width and height as displayed: EXIF orientations 5-8 turn the
 * image a quarter, exchanging its sides.
 *
 * @example
 * ```ts
 * displayedSize(4000, 3000, 6); // { width: 3000, height: 4000 }
 * ```
 */
export function displayedSize(width: number, height: number, orientation: number): { width: number; height: number } {
  const swap = orientation >= 5 && orientation <= 8;
  return swap ? { width: height, height: width } : { width, height };
}
