/**
 * A flat grey AVIF of any size without running an AV1 encoder: a `grid`
 * image whose tiles all point at the same 46 bytes of AV1 data, one
 * 512x512 monochrome tile of grey 128. The grid's own size crops the
 * right and bottom tiles, so the result is exactly `width` x `height`.
 *
 * @module
 */
import { concat } from "../../shared/bytes.ts";

/** The tile: `avifenc -s 10 --yuv 400 -d 8 --min 50 --max 50` of a flat 512x512 grey 128 PNG. */
const TILE_SIDE = 512;
const TILE_AV1 = hex(
  "12000a0918623ffffe18086835321f132029a440f5c7215111b3c1f8e5d3baf921cf3c24cd140bbe8399df3877d8",
);
/** Its av1C configuration: AV1 main profile, level 4.0, 8-bit, monochrome. */
const TILE_AV1C = hex("81011c00");
/** nclx: BT.709 primaries, sRGB transfer, BT.601 matrix, full range (as avifenc wrote it). */
const NCLX = hex("6e636c780001000d000680");

function hex(text: string): Uint8Array {
  return new Uint8Array(text.match(/../g)!.map((h) => parseInt(h, 16)));
}

class Writer {
  bytes: number[] = [];
  u8(v: number): this {
    this.bytes.push(v & 0xff);
    return this;
  }
  u16(v: number): this {
    return this.u8(v >> 8).u8(v);
  }
  u32(v: number): this {
    return this.u16(v >>> 16).u16(v & 0xffff);
  }
  text(s: string): this {
    for (const c of s) this.u8(c.charCodeAt(0));
    return this;
  }
  raw(b: ArrayLike<number>): this {
    for (let i = 0; i < b.length; i++) this.bytes.push(b[i]);
    return this;
  }
}

function box(type: string, ...parts: ArrayLike<number>[]): number[] {
  const size = 8 + parts.reduce((n, p) => n + p.length, 0);
  const w = new Writer().u32(size).text(type);
  for (const p of parts) w.raw(p);
  return w.bytes;
}

function fullBox(type: string, version: number, flags: number, ...parts: ArrayLike<number>[]): number[] {
  return box(type, new Writer().u8(version).u8(flags >> 16).u16(flags & 0xffff).bytes, ...parts);
}

/**
 * A flat grey AVIF of `width` x `height` (each at most 131072).
 *
 * @example
 * ```ts
 * const avif = flatAvif(200, 120);
 * ```
 */
export function flatAvif(width: number, height: number): Uint8Array<ArrayBuffer> {
  const columns = Math.ceil(width / TILE_SIDE);
  const rows = Math.ceil(height / TILE_SIDE);
  const tiles = columns * rows;
  const wide = width > 0xffff || height > 0xffff;
  const grid = new Writer().u8(0).u8(wide ? 1 : 0).u8(rows - 1).u8(columns - 1);
  if (wide) grid.u32(width).u32(height);
  else grid.u16(width).u16(height);

  const ftyp = box("ftyp", new Writer().text("avif").u32(0).text("avifmif1miaf").bytes);
  const hdlr = fullBox("hdlr", 0, 0, new Writer().u32(0).text("pict").u32(0).u32(0).u32(0).u8(0).bytes);
  const pitm = fullBox("pitm", 0, 0, new Writer().u16(1).bytes);
  const infe = (id: number, type: string, hidden: boolean) =>
    fullBox("infe", 2, hidden ? 1 : 0, new Writer().u16(id).u16(0).text(type).u8(0).bytes);
  const entries = [infe(1, "grid", false)];
  for (let i = 0; i < tiles; i++) entries.push(infe(2 + i, "av01", true));
  const iinf = fullBox("iinf", 0, 0, new Writer().u16(1 + tiles).bytes, ...entries);
  const dimg = new Writer().u16(1).u16(tiles);
  for (let i = 0; i < tiles; i++) dimg.u16(2 + i);
  const iref = fullBox("iref", 0, 0, box("dimg", dimg.bytes));
  const ispe = (w: number, h: number) => fullBox("ispe", 0, 0, new Writer().u32(w).u32(h).bytes);
  const ipco = box(
    "ipco",
    ispe(TILE_SIDE, TILE_SIDE), // 1
    box("av1C", TILE_AV1C), // 2
    fullBox("pixi", 0, 0, [1, 8]), // 3
    box("colr", NCLX), // 4
    ispe(width, height), // 5
  );
  const ipma = new Writer().u32(1 + tiles).u16(1).u8(3).u8(5).u8(3).u8(4);
  for (let i = 0; i < tiles; i++) ipma.u16(2 + i).u8(3).u8(1).u8(0x82).u8(3);
  const iprp = box("iprp", ipco, fullBox("ipma", 0, 0, ipma.bytes));

  // iloc's size does not depend on the offsets, so it can be laid out once with placeholders.
  const ilocFor = (dataStart: number) => {
    const w = new Writer().u8(0x44).u8(0x00).u16(1 + tiles);
    w.u16(1).u16(0).u16(1).u32(dataStart).u32(grid.bytes.length);
    for (let i = 0; i < tiles; i++) w.u16(2 + i).u16(0).u16(1).u32(dataStart + grid.bytes.length).u32(TILE_AV1.length);
    return fullBox("iloc", 0, 0, w.bytes);
  };
  const metaFor = (dataStart: number) => fullBox("meta", 0, 0, hdlr, pitm, ilocFor(dataStart), iinf, iref, iprp);
  const metaLength = metaFor(0).length;
  const dataStart = ftyp.length + metaLength + 8;
  const mdat = box("mdat", grid.bytes, TILE_AV1);
  return concat([ftyp, metaFor(dataStart), mdat]);
}
