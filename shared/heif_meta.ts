/**
 * The `meta` box of a HEIF file (ISO/IEC 23008-12: AVIF and HEIC alike),
 * read without touching the coded data: the brands, the primary item
 * (`pitm`), each item's type (`iinf`), its properties (`iprp`: `ipco` and
 * `ipma`) and its references (`iref`, e.g. a grid's `dimg` tiles). The
 * server reads sizes from it (src/image/heif_header.ts) and the worker
 * the primary image's ICC profile (workers/ops/icc.ts). Every loop is
 * bounded by the box it walks, so a hostile count costs nothing.
 *
 * @module
 */

/** One box: its type and where its payload lies in the file. */
export interface Box {
  type: string;
  /** Payload start and end (exclusive). */
  start: number;
  end: number;
}

/** What the `meta` box says about the file's items. */
export interface HeifMeta {
  /** The major brand first, then the compatible ones. */
  brands: string[];
  primary: number;
  /** Item id to its four-letter type (`hvc1`, `av01`, `grid`, `Exif`…). */
  itemTypes: Map<number, string>;
  /** `ipco`'s properties in order: `ipma` numbers them from 1. */
  properties: Box[];
  /** Item id to the indexes of its properties (1-based; 0 is none). */
  associations: Map<number, number[]>;
  /** Item id to its references by type: `dimg` lists a grid's tiles in order. */
  references: Map<number, Map<string, number[]>>;
}

/** Thrown when the bytes are not a HEIF file's meta, with the reason in a few words. */
export class HeifCorrupt extends Error {}

/** How many bytes of a HEIF are read at most to find its `meta` box. */
export const HEIF_HEADER_LIMIT = 1 << 20;

const ascii = (bytes: Uint8Array, at: number, n: number) => String.fromCharCode(...bytes.subarray(at, at + n));

/**
 * The boxes between `from` and `to`. `short` is called when a 64-bit size
 * lies past the bytes at hand; reads past them throw RangeError.
 */
export function* boxes(bytes: Uint8Array, from: number, to: number, short: () => never): Generator<Box> {
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
    if (size < start - at) throw new HeifCorrupt(`box "${type.replace(/[^\x20-\x7e]/g, "?")}" has an impossible size`);
    yield { type, start, end: at + size };
    at += size;
  }
  if (at > to && to < bytes.length) throw new HeifCorrupt("a box runs past its parent");
}

/**
 * The major and compatible brands of the `ftyp` box the file starts with;
 * undefined while the bytes at hand end inside it.
 *
 * @example
 * ```ts
 * heifBrands(bytes)?.includes("heic");
 * ```
 */
export function heifBrands(bytes: Uint8Array): string[] | undefined {
  if (bytes.length < 8) return undefined;
  const size = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0);
  if (ascii(bytes, 4, 4) !== "ftyp" || size < 16) throw new HeifCorrupt("it has no ftyp box first");
  if (size > bytes.length) return undefined;
  const brands = [ascii(bytes, 8, 4)];
  for (let at = 16; at + 4 <= size; at += 4) brands.push(ascii(bytes, at, 4));
  return brands;
}

/**
 * Reads the file's brands and `meta` box; undefined when the bytes at hand
 * end before the `meta` box does (`short` decides whether more may come).
 *
 * @example
 * ```ts
 * const meta = readHeifMeta(bytes, () => { throw new Error("short"); });
 * meta?.itemTypes.get(meta.primary); // "grid" for an iPhone photo
 * ```
 */
export function readHeifMeta(bytes: Uint8Array, short: () => never): HeifMeta | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let brands: string[] | undefined;
  let meta: Box | undefined;
  for (const box of boxes(bytes, 0, bytes.length, short)) {
    if (box.end > bytes.length) return undefined;
    if (box.type === "ftyp") {
      brands = [ascii(bytes, box.start, 4)];
      for (let at = box.start + 8; at + 4 <= box.end; at += 4) brands.push(ascii(bytes, at, 4));
    } else if (box.type === "meta") {
      meta = box;
      break;
    }
  }
  if (!brands) throw new HeifCorrupt("it has no ftyp box first");
  if (!meta) return undefined;
  const result: HeifMeta = {
    brands,
    primary: 1,
    itemTypes: new Map(),
    properties: [],
    associations: new Map(),
    references: new Map(),
  };
  // meta is a FullBox: 4 bytes of version and flags first.
  for (const box of boxes(bytes, meta.start + 4, meta.end, short)) {
    if (box.type === "pitm") {
      result.primary = bytes[box.start] === 0 ? view.getUint16(box.start + 4) : view.getUint32(box.start + 4);
    } else if (box.type === "iinf") {
      // FullBox, then an entry count (16 or 32 bits) the boxes themselves bound.
      const first = box.start + 4 + (bytes[box.start] === 0 ? 2 : 4);
      for (const infe of boxes(bytes, first, box.end, short)) {
        if (infe.type === "infe") readInfe(bytes, view, infe, result.itemTypes);
      }
    } else if (box.type === "iprp") {
      for (const sub of boxes(bytes, box.start, box.end, short)) {
        if (sub.type === "ipco") result.properties.push(...boxes(bytes, sub.start, sub.end, short));
        if (sub.type === "ipma") readIpma(view, sub, result.associations);
      }
    } else if (box.type === "iref") {
      readIref(bytes, view, box, short, result.references);
    }
  }
  return result;
}

/** `infe` version 2 and 3 give the item's id and type (earlier versions predate HEIF's images). */
function readInfe(bytes: Uint8Array, view: DataView, box: Box, types: Map<number, string>): void {
  const version = bytes[box.start];
  if (version < 2) return;
  const id = version === 2 ? view.getUint16(box.start + 4) : view.getUint32(box.start + 4);
  // Then a 16-bit protection index, then the type.
  const typeAt = box.start + (version === 2 ? 8 : 10);
  types.set(id, ascii(bytes, typeAt, 4));
}

function readIpma(view: DataView, box: Box, associations: Map<number, number[]>): void {
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
    for (let k = 0; k < n && at < box.end; k++) {
      list.push(wide ? view.getUint16(at) & 0x7fff : view.getUint8(at) & 0x7f);
      at += wide ? 2 : 1;
    }
    associations.set(item, list);
  }
}

/** `iref`: boxes named by the reference type, each a from-item and a list of to-items. */
function readIref(
  bytes: Uint8Array,
  view: DataView,
  box: Box,
  short: () => never,
  references: Map<number, Map<string, number[]>>,
): void {
  const wide = bytes[box.start] !== 0;
  const id = (at: number) => wide ? view.getUint32(at) : view.getUint16(at);
  const step = wide ? 4 : 2;
  for (const ref of boxes(bytes, box.start + 4, box.end, short)) {
    const from = id(ref.start);
    const count = view.getUint16(ref.start + step);
    const to: number[] = [];
    for (let i = 0, at = ref.start + step + 2; i < count && at + step <= ref.end; i++, at += step) to.push(id(at));
    let byType = references.get(from);
    if (!byType) references.set(from, byType = new Map());
    byType.set(ref.type, to);
  }
}

/**
 * The properties of an item, in its `ipma` order.
 *
 * @example
 * ```ts
 * itemProperties(meta, meta.primary).find((p) => p.type === "ispe");
 * ```
 */
export function itemProperties(meta: HeifMeta, item: number): Box[] {
  return (meta.associations.get(item) ?? []).map((i) => meta.properties[i - 1]).filter((p) => p !== undefined);
}

/**
 * The primary item's embedded ICC profile (`colr` of type `prof` or
 * `rICC`); for a grid without one, its first tile's.
 *
 * @example
 * ```ts
 * const icc = primaryIcc(bytes, meta);
 * ```
 */
export function primaryIcc(bytes: Uint8Array, meta: HeifMeta): Uint8Array | undefined {
  const tiles = meta.references.get(meta.primary)?.get("dimg") ?? [];
  for (const item of [meta.primary, ...tiles.slice(0, 1)]) {
    for (const p of itemProperties(meta, item)) {
      if (p.type !== "colr") continue;
      const kind = ascii(bytes, p.start, 4);
      if (kind === "prof" || kind === "rICC") return bytes.subarray(p.start + 4, p.end);
    }
  }
  return undefined;
}
