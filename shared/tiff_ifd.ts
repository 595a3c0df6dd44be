/**
 * A TIFF's image file directories (IFDs), read without touching pixel data:
 * the server reads a page's header from them, the worker its strips or
 * tiles. Every offset and count from the file is checked before it is
 * followed: the chain of IFDs is walked at most {@linkcode MAX_PAGES} deep
 * and a loop in it ends the walk; an IFD has at most
 * {@linkcode MAX_ENTRIES} entries; an array is read only when it lies within
 * the bytes at hand and is no longer than the caller allows.
 *
 * @module
 */

/** The deepest page (IFD) a walk goes to: `args.page` is refused above it. */
export const MAX_PAGES = 10_000;
/** Most entries an IFD may have; libtiff writes a few dozen. */
export const MAX_ENTRIES = 4096;

/** Tag numbers read here. */
export const Tag = {
  width: 256,
  height: 257,
  bitsPerSample: 258,
  compression: 259,
  photometric: 262,
  fillOrder: 266,
  stripOffsets: 273,
  orientation: 274,
  samplesPerPixel: 277,
  rowsPerStrip: 278,
  stripByteCounts: 279,
  planarConfig: 284,
  predictor: 317,
  colorMap: 320,
  tileWidth: 322,
  tileLength: 323,
  tileOffsets: 324,
  tileByteCounts: 325,
  extraSamples: 338,
  sampleFormat: 339,
  jpegTables: 347,
  ycbcrSubsampling: 530,
  iccProfile: 34675,
} as const;

/** Bytes per value of each classic TIFF field type (1 BYTE … 12 DOUBLE); entries of other types are skipped. */
const TYPE_SIZE: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8 };

/** Why an IFD could not be read: more bytes may help (`needed`), or the file is corrupt. */
export class TiffLayoutError extends Error {
  /** Bytes the file must have for the read to go on; undefined when no length would help. */
  readonly needed?: number;
  constructor(message: string, needed?: number) {
    super(message);
    this.needed = needed;
  }
}

/** One IFD entry: its type, value count and where its values are (inline ones at the entry itself). */
interface Entry {
  type: number;
  count: number;
  at: number;
}

/** An IFD's entries, read on demand from the file's bytes. */
export interface Ifd {
  /** Whether the tag is present. */
  has(tag: number): boolean;
  /** The tag's first value, or `fallback`. */
  value(tag: number, fallback: number): number;
  /** All the tag's values; at most `max` of them, or TiffLayoutError. */
  values(tag: number, max: number): number[];
  /** The bytes of a BYTE/UNDEFINED tag (JPEGTables, ICC profile), at most `max`; undefined when absent. */
  bytes(tag: number, max: number): Uint8Array | undefined;
}

/** A TIFF's byte order and the offset of its first IFD. */
export interface TiffFile {
  view: DataView;
  little: boolean;
  firstIfd: number;
}

/** Whether the bytes start like a classic TIFF ("II*\0" or "MM\0*"). */
export function isTiff(bytes: Uint8Array): boolean {
  return bytes.length >= 4 &&
    ((bytes[0] === 0x49 && bytes[1] === 0x49 && bytes[2] === 42 && bytes[3] === 0) ||
      (bytes[0] === 0x4d && bytes[1] === 0x4d && bytes[2] === 0 && bytes[3] === 42));
}

/** Whether the bytes start like a BigTIFF (version 43), which is not read. */
export function isBigTiff(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && (bytes[0] === 0x49 || bytes[0] === 0x4d) && bytes[0] === bytes[1] &&
    (bytes[0] === 0x49 ? bytes[2] === 43 && bytes[3] === 0 : bytes[2] === 0 && bytes[3] === 43);
}

/** The header of a classic TIFF (the caller has checked {@linkcode isTiff} and that 8 bytes are there). */
export function tiffFile(bytes: Uint8Array): TiffFile {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const little = bytes[0] === 0x49;
  return { view, little, firstIfd: view.getUint32(4, little) };
}

/**
 * The IFD of page `page` (0 is the first), or undefined when the file has
 * fewer pages; with the number of pages seen. Throws TiffLayoutError when
 * an IFD lies past the bytes at hand (`needed` says how many would do) or
 * is malformed.
 *
 * @example
 * ```ts
 * const { ifd } = findPage(tiffFile(bytes), 0);
 * ifd?.value(Tag.width, 0);
 * ```
 */
export function findPage(file: TiffFile, page: number): { ifd?: Ifd; pages: number } {
  const seen = new Set<number>();
  let offset = file.firstIfd;
  for (let index = 0; index <= Math.min(page, MAX_PAGES); index++) {
    // A zero offset ends the chain; one seen before is a loop, which ends it as well.
    if (offset === 0 || seen.has(offset)) return { pages: index };
    seen.add(offset);
    const { ifd, next } = readIfd(file, offset);
    if (index === page) return { ifd, pages: index + 1 };
    offset = next;
  }
  return { pages: MAX_PAGES };
}

function readIfd(file: TiffFile, offset: number): { ifd: Ifd; next: number } {
  const { view, little } = file;
  if (offset < 8) {
    throw new TiffLayoutError(`an IFD offset (${offset}) points into the file header`);
  }
  need(view, offset + 2);
  const count = view.getUint16(offset, little);
  if (count === 0 || count > MAX_ENTRIES) throw new TiffLayoutError(`an IFD claims ${count} entries`);
  need(view, offset + 2 + count * 12 + 4);
  const entries = new Map<number, Entry>();
  for (let i = 0; i < count; i++) {
    const at = offset + 2 + i * 12;
    const tag = view.getUint16(at, little);
    const type = view.getUint16(at + 2, little);
    const n = view.getUint32(at + 4, little);
    const size = TYPE_SIZE[type];
    if (size === undefined) continue;
    const inline = size * n <= 4;
    entries.set(tag, { type, count: n, at: inline ? at + 8 : view.getUint32(at + 8, little) });
  }
  const next = view.getUint32(offset + 2 + count * 12, little);
  return { ifd: ifdOf(view, little, entries), next };
}

/** Throws TiffLayoutError unless the first `end` bytes of the file are at hand. */
function need(view: DataView, end: number): void {
  if (end > view.byteLength) {
    throw new TiffLayoutError(`the TIFF's directory lies past the bytes at hand (needs ${end})`, end);
  }
}

function ifdOf(view: DataView, little: boolean, entries: Map<number, Entry>): Ifd {
  const read = (e: Entry, i: number): number => {
    const size = TYPE_SIZE[e.type];
    const at = e.at + i * size;
    switch (e.type) {
      case 3:
        return view.getUint16(at, little);
      case 4:
        return view.getUint32(at, little);
      case 8:
        return view.getInt16(at, little);
      case 9:
        return view.getInt32(at, little);
      case 5:
        return view.getUint32(at, little) / (view.getUint32(at + 4, little) || 1);
      default:
        return view.getUint8(at);
    }
  };
  const within = (e: Entry, tag: number, max: number) => {
    if (e.count > max) throw new TiffLayoutError(`tag ${tag} has ${e.count} values, over the ${max} allowed`);
    need(view, e.at + e.count * TYPE_SIZE[e.type]);
  };
  return {
    has: (tag) => entries.has(tag),
    value(tag, fallback) {
      const e = entries.get(tag);
      if (!e || e.count === 0) return fallback;
      need(view, e.at + TYPE_SIZE[e.type]);
      return read(e, 0);
    },
    values(tag, max) {
      const e = entries.get(tag);
      if (!e) return [];
      within(e, tag, max);
      const out = new Array<number>(e.count);
      for (let i = 0; i < e.count; i++) out[i] = read(e, i);
      return out;
    },
    bytes(tag, max) {
      const e = entries.get(tag);
      if (!e) return undefined;
      const length = e.count * TYPE_SIZE[e.type];
      if (length > max) throw new TiffLayoutError(`tag ${tag} holds ${length} bytes, over the ${max} allowed`);
      need(view, e.at + length);
      return new Uint8Array(view.buffer, view.byteOffset + e.at, length);
    },
  };
}
