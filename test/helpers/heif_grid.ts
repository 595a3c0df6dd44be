/**
 * HEIC test files of the kind phones write: a grid of HEVC tiles, turned
 * by `irot` and mirrored by `imir`, with an ICC profile. Debian's heif-enc
 * (libheif 1.15) writes single images only, without `irot`/`imir`, so each
 * tile is encoded by heif-enc and the file around them is put together here
 * from the tiles' own `hvcC` and coded data. libheif's heif-convert is
 * the reference decoder the tests compare against.
 *
 * @module
 */
import { concat } from "../../shared/bytes.ts";
import { boxes, itemProperties, readHeifMeta } from "../../shared/heif_meta.ts";
import { tool } from "./tools.ts";

/** What to wrap around the coded images. */
export interface HeifLayout {
  /** The grid's image size: tiles are cropped to it. Absent: the one tile is the image. */
  grid?: { columns: number; rows: number; width: number; height: number };
  /** Quarter turns anticlockwise. */
  irot?: number;
  /** 0: top and bottom exchanged; 1: left and right. */
  imir?: number;
  /** An ICC profile for the image's `colr`. */
  icc?: Uint8Array;
}

const text = (s: string) => new TextEncoder().encode(s);

function u(bits: 8 | 16 | 32, value: number): Uint8Array {
  const out = new Uint8Array(bits / 8);
  const view = new DataView(out.buffer);
  if (bits === 8) view.setUint8(0, value);
  else if (bits === 16) view.setUint16(0, value);
  else view.setUint32(0, value);
  return out;
}

function box(type: string, ...parts: Uint8Array[]): Uint8Array {
  const body = concat(parts);
  return concat([u(32, body.length + 8), text(type), body]);
}

function fullBox(type: string, version: number, flags: number, ...parts: Uint8Array[]): Uint8Array {
  return box(type, u(32, (version << 24) | flags), ...parts);
}

/** One heif-enc file's primary image: its hvcC box and its coded bytes. */
interface Coded {
  hvcC: Uint8Array;
  data: Uint8Array;
  width: number;
  height: number;
}

/** The primary item's `hvcC`, `ispe` and data (one extent, in the file) of a file heif-enc wrote. */
function codedImage(file: Uint8Array): Coded {
  const short = () => {
    throw new Error("the tile file is cut short");
  };
  const meta = readHeifMeta(file, short);
  if (!meta) throw new Error("the tile file has no meta box");
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  if (meta.itemTypes.get(meta.primary) !== "hvc1") {
    throw new Error("heif-enc did not write one HEVC image (it wraps images under 64 pixels a side): use larger tiles");
  }
  const properties = itemProperties(meta, meta.primary);
  const hvcC = properties.find((p) => p.type === "hvcC")!;
  const ispe = properties.find((p) => p.type === "ispe")!;
  const [offset, length] = ilocExtent(file, view, meta.primary);
  return {
    hvcC: file.slice(hvcC.start - 8, hvcC.end),
    data: file.slice(offset, offset + length),
    width: view.getUint32(ispe.start + 4),
    height: view.getUint32(ispe.start + 8),
  };
}

/** The item's first extent from `iloc` (construction method 0, as heif-enc writes it). */
function ilocExtent(file: Uint8Array, view: DataView, item: number): [number, number] {
  const short = () => {
    throw new Error("the tile file is cut short");
  };
  const meta = [...boxes(file, 0, file.length, short)].find((b) => b.type === "meta")!;
  const iloc = [...boxes(file, meta.start + 4, meta.end, short)].find((b) => b.type === "iloc")?.start ?? -1;
  if (iloc < 0) throw new Error("no iloc box");
  const version = file[iloc];
  const sizes = view.getUint16(iloc + 4);
  const [offsetSize, lengthSize, baseSize, indexSize] = [sizes >> 12, (sizes >> 8) & 15, (sizes >> 4) & 15, sizes & 15];
  const read = (p: number, n: number) => n === 0 ? 0 : n === 4 ? view.getUint32(p) : Number(view.getBigUint64(p));
  let p = iloc + 6;
  const count = version < 2 ? view.getUint16(p) : view.getUint32(p);
  p += version < 2 ? 2 : 4;
  for (let i = 0; i < count; i++) {
    const id = version < 2 ? view.getUint16(p) : view.getUint32(p);
    p += version < 2 ? 2 : 4;
    if (version >= 1) p += 2;
    p += 2;
    const base = read(p, baseSize);
    p += baseSize;
    const extents = view.getUint16(p);
    p += 2;
    let first: [number, number] | undefined;
    for (let e = 0; e < extents; e++) {
      if (version >= 1 && indexSize > 0) p += indexSize;
      const offset = read(p, offsetSize);
      p += offsetSize;
      const length = read(p, lengthSize);
      p += lengthSize;
      first ??= [base + offset, length];
    }
    if (id === item && first) return first;
  }
  throw new Error(`no iloc entry for item ${item}`);
}

/**
 * A HEIC made of heif-enc's single-image files: one (`layout.grid`
 * absent) or a grid's tiles in row order.
 *
 * @example
 * ```ts
 * const heic = heifFile([tile0, tile1], { grid: { columns: 2, rows: 1, width: 120, height: 64 }, irot: 1 });
 * ```
 */
export function heifFile(tileFiles: Uint8Array[], layout: HeifLayout = {}): Uint8Array<ArrayBuffer> {
  const tiles = tileFiles.map(codedImage);
  const { grid } = layout;
  const gridId = tiles.length + 1;
  const primary = grid ? gridId : 1;
  // Properties: each tile's hvcC and ispe, then the image's own.
  const properties: Uint8Array[] = [];
  const tileProps: number[][] = tiles.map((t) => {
    properties.push(t.hvcC, fullBox("ispe", 0, 0, u(32, t.width), u(32, t.height)));
    return [properties.length - 1, properties.length];
  });
  const imageProps: number[] = grid ? [] : tileProps[0];
  const add = (property: Uint8Array, essential: boolean) => {
    properties.push(property);
    imageProps.push(properties.length | (essential ? 0x80 : 0));
  };
  if (grid) add(fullBox("ispe", 0, 0, u(32, grid.width), u(32, grid.height)), false);
  if (layout.icc) add(box("colr", text("prof"), layout.icc), false);
  if (layout.irot !== undefined) add(box("irot", u(8, layout.irot & 3)), true);
  if (layout.imir !== undefined) add(box("imir", u(8, layout.imir & 1)), true);
  const gridData = grid
    ? concat([u(8, 0), u(8, 0), u(8, grid.rows - 1), u(8, grid.columns - 1), u(16, grid.width), u(16, grid.height)])
    : new Uint8Array(0);
  const items = tiles.map((_, i) => i + 1);
  const meta = (mdatStart: number) => {
    const infes = items.map((id) => fullBox("infe", 2, grid ? 1 : 0, u(16, id), u(16, 0), text("hvc1"), u(8, 0)));
    if (grid) infes.push(fullBox("infe", 2, 0, u(16, gridId), u(16, 0), text("grid"), u(8, 0)));
    const associations = [
      ...items.map((id, i) => [id, grid ? tileProps[i] : imageProps] as const),
      ...(grid ? [[gridId, imageProps] as const] : []),
    ];
    const ipma = fullBox(
      "ipma",
      0,
      0,
      u(32, associations.length),
      ...associations.flatMap(([id, list]) => [u(16, id), u(8, list.length), ...list.map((p) => u(8, p))]),
    );
    let offset = mdatStart + 8;
    const locations = items.map((id, i) => {
      const entry = concat([u(16, id), u(16, 0), u(16, 0), u(16, 1), u(32, offset), u(32, tiles[i].data.length)]);
      offset += tiles[i].data.length;
      return entry;
    });
    if (grid) locations.push(concat([u(16, gridId), u(16, 1), u(16, 0), u(16, 1), u(32, 0), u(32, gridData.length)]));
    return fullBox(
      "meta",
      0,
      0,
      fullBox("hdlr", 0, 0, u(32, 0), text("pict"), u(32, 0), u(32, 0), u(32, 0), u(8, 0)),
      fullBox("pitm", 0, 0, u(16, primary)),
      fullBox("iinf", 0, 0, u(16, infes.length), ...infes),
      ...(grid
        ? [fullBox("iref", 0, 0, box("dimg", u(16, gridId), u(16, items.length), ...items.map((i) => u(16, i))))]
        : []),
      box("iprp", box("ipco", ...properties), ipma),
      ...(grid ? [box("idat", gridData)] : []),
      fullBox("iloc", 1, 0, u(16, 0x4400), u(16, locations.length), ...locations),
    );
  };
  const ftyp = box("ftyp", text("heic"), u(32, 0), text("mif1"), text("heic"), text("miaf"));
  const start = ftyp.length + meta(0).length;
  return concat([ftyp, meta(start), box("mdat", ...tiles.map((t) => t.data))]) as Uint8Array<ArrayBuffer>;
}

/**
 * Encodes `png` with heif-enc (x265's fastest preset, `quality`) and
 * returns the file's bytes.
 */
export async function heifEnc(png: string, out: string, quality = 90, ...options: string[]): Promise<Uint8Array> {
  // heif-enc 1.15 misreads palette PNGs: it is given 8-bit RGB, keeping any profile.
  const rgb = `${out}.rgb.png`;
  await tool("convert", [png, `PNG24:${rgb}`]);
  await tool("heif-enc", ["-q", String(quality), "-p", "preset=ultrafast", ...options, "-o", out, rgb]);
  await Deno.remove(rgb);
  return await Deno.readFile(out);
}

/**
 * A grid HEIC of the PNG at `png` (its whole size), `tile` pixels a tile
 * side, each tile encoded by heif-enc; the layout's turn, mirror and
 * profile are added.
 */
export async function gridHeic(
  dir: string,
  png: string,
  width: number,
  height: number,
  tile: number,
  layout: Omit<HeifLayout, "grid"> = {},
): Promise<Uint8Array<ArrayBuffer>> {
  const columns = Math.ceil(width / tile), rows = Math.ceil(height / tile);
  // Edge tiles are padded to the full tile size, as cameras encode them.
  await tool("convert", [
    png,
    "-background",
    "black",
    "-extent",
    `${columns * tile}x${rows * tile}`,
    "-crop",
    `${tile}x${tile}`,
    "+repage",
    `PNG24:${dir}/tile-%d.png`,
  ]);
  const files: Uint8Array[] = [];
  for (let i = 0; i < columns * rows; i++) files.push(await heifEnc(`${dir}/tile-${i}.png`, `${dir}/tile-${i}.heic`));
  return heifFile(files, { ...layout, grid: { columns, rows, width, height } });
}
