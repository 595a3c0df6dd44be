/**
 * PNG damage the decoder does not report: it ignores CRCs and a missing
 * IEND, and refuses a file cut inside its image data outright. The chunks
 * are walked and each CRC checked (a few percent of its decode); with
 * `"failOn": "none"` a cut file is rebuilt around the image data that is
 * there, the missing rows zero.
 *
 * @module
 */
import { concat } from "../../shared/bytes.ts";
import { crc32, pngChunk } from "../../shared/png_file.ts";
import { type PngChunk, walkPngChunks } from "./png_chunks.ts";
import { fourcc } from "./damage.ts";

/** What is wrong with a PNG: `why` in a few words; `cut` when it ends early. */
export interface PngDamage {
  why: string;
  cut: boolean;
}

/** Walks the chunks up to IEND, checking each one's CRC; `crcOk` is undefined for a chunk cut short. */
function walk(bytes: Uint8Array, visit: (chunk: PngChunk, crcOk: boolean | undefined) => void): PngDamage | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let damage: PngDamage | undefined;
  let ended = false;
  walkPngChunks(bytes, (chunk) => {
    const { type, at, end } = chunk;
    if (end > bytes.length) {
      visit(chunk, undefined);
      damage = { why: `it ends inside its ${fourcc(bytes, at + 4)} chunk (cut short)`, cut: true };
      return true;
    }
    const crcOk = crc32(bytes.subarray(at + 4, end - 4)) === view.getUint32(end - 4);
    if (!crcOk) damage ??= { why: `its ${fourcc(bytes, at + 4)} chunk fails its CRC check`, cut: false };
    visit(chunk, crcOk);
    ended = type === "IEND";
  });
  return ended || damage?.cut ? damage : { why: "it ends before its IEND chunk (cut short)", cut: true };
}

/**
 * What is wrong with a PNG, or undefined when every chunk up to IEND is
 * whole and passes its CRC check.
 *
 * @example
 * ```ts
 * pngDamage(bytes.subarray(0, 3000)); // { why: "it ends inside its IDAT chunk (cut short)", cut: true }
 * ```
 */
export function pngDamage(bytes: Uint8Array): PngDamage | undefined {
  return walk(bytes, () => {});
}

/** Bytes of filtered image data a PNG holds: a filter byte and the packed samples per row, per Adam7 pass if interlaced. */
function rawSize(ihdr: Uint8Array): number {
  const view = new DataView(ihdr.buffer, ihdr.byteOffset, ihdr.byteLength);
  const width = view.getUint32(0);
  const height = view.getUint32(4);
  const channels = [1, 0, 3, 1, 2, 0, 4][ihdr[9]] ?? 0;
  const bits = channels * ihdr[8];
  const rows = (w: number, h: number) => w > 0 && h > 0 ? h * (1 + Math.ceil(w * bits / 8)) : 0;
  if (ihdr[12] !== 1) return rows(width, height);
  const passes = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]];
  return passes.reduce(
    (sum, [x, y, dx, dy]) => sum + rows(Math.ceil((width - x) / dx), Math.ceil((height - y) / dy)),
    0,
  );
}

/** Inflates what there is of a zlib stream, up to `size` bytes, zero-filled past the point where it breaks off. */
async function inflatePart(data: Uint8Array, size: number): Promise<{ raw: Uint8Array; got: number }> {
  const raw = new Uint8Array(size);
  let got = 0;
  const stream = new Blob([data as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream("deflate"));
  const reader = stream.getReader();
  try {
    while (got < size) {
      const { value, done } = await reader.read();
      if (done) break;
      raw.set(value.subarray(0, size - got), got);
      got += Math.min(value.length, size - got);
    }
  } catch {
    // The stream breaks off where the file was cut: what came before it is kept.
  } finally {
    await reader.cancel().catch(() => {});
  }
  return { raw, got };
}

/**
 * A cut PNG made whole for `"failOn": "none"`: the chunks before the image
 * data, the image data that is there (the missing rows zero, so black or
 * transparent), and IEND, every CRC recomputed. Throws when none of the
 * image data is there.
 */
export async function completePng(bytes: Uint8Array): Promise<Uint8Array> {
  const head: Uint8Array[] = [bytes.subarray(0, 8)];
  const idat: Uint8Array[] = [];
  let ihdr: Uint8Array | undefined;
  walk(bytes, ({ type, data }) => {
    if (type === "IHDR") ihdr = data;
    if (type === "IDAT") idat.push(data);
    else if (idat.length === 0 && type !== "IEND") head.push(pngChunk(type, data));
  });
  if (!ihdr || ihdr.length < 13) throw new Error("the PNG has no usable IHDR chunk");
  const { raw, got } = await inflatePart(concat(idat), rawSize(ihdr));
  if (got === 0) throw new Error("none of the PNG's image data is there");
  const deflated = new Uint8Array(
    await new Response(
      new Blob([raw as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new CompressionStream("deflate")),
    )
      .arrayBuffer(),
  );
  return concat([...head, pngChunk("IDAT", deflated), pngChunk("IEND", new Uint8Array(0))]);
}
