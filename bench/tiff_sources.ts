/**
 * TIFF sources against PNG: one photo written as PNG and as TIFF with
 * LZW and Deflate (each with and without the horizontal predictor, and
 * JPEG-in-TIFF), the same pixels, each decoded by the worker's decode steps
 * (median of `reps` after a warm-up). The TIFF rows' ratio to the PNG row
 * is what the README quotes.
 *
 * @module
 */
import type { Plan } from "../protocol/plan.ts";
import { readHeader } from "../src/image/header.ts";
import { decodeSource } from "../workers/pipeline/mod.ts";
import { StageTimer } from "../workers/ops/timer.ts";
import { release } from "../workers/ops/release.ts";

/** One source kind: its file's bytes and its median decode time. */
export interface TiffSourceResult {
  name: string;
  size: string;
  bytes: number;
  decodeMs: number;
}

/** The codings compared: PNG by ImageMagick, the TIFFs by tiffcp from an uncompressed one (strips of 8 KiB or so). */
const CODINGS: [string, string[]][] = [
  ["PNG", []],
  ["TIFF uncompressed", ["-c", "none"]],
  ["TIFF LZW", ["-c", "lzw"]],
  ["TIFF LZW + predictor", ["-c", "lzw:2"]],
  ["TIFF Deflate", ["-c", "zip"]],
  ["TIFF Deflate + predictor", ["-c", "zip:2"]],
  ["TIFF JPEG q90", ["-c", "jpeg:90"]],
  ["TIFF LZW tiles 256x256", ["-c", "lzw:2", "-t", "-w", "256", "-l", "256"]],
];

/**
 * Writes `photo` in each coding to a temporary folder and times its decode.
 * The codecs must be loaded in this realm already.
 */
export async function compareTiffSources(photo: string, reps: number): Promise<TiffSourceResult[]> {
  const dir = await Deno.makeTempDir();
  try {
    const results: TiffSourceResult[] = [];
    const plain = `${dir}/plain.tif`;
    await run("convert", [photo, "-compress", "none", plain]);
    for (const [name, options] of CODINGS) {
      const path = `${dir}/photo-${results.length}.${options.length ? "tif" : "png"}`;
      await (options.length ? run("tiffcp", [...options, plain, path]) : run("convert", [photo, path]));
      const bytes = await Deno.readFile(path);
      const source = readHeader(bytes, true);
      const plan: Plan = {
        op: "resize",
        source,
        width: 200,
        height: 120,
        format: "jpeg",
        quality: 80,
        mode: "fit",
        crop: { x: 0, y: 0, width: source.width, height: source.height },
      };
      const runs: number[] = [];
      for (let rep = 0; rep <= reps; rep++) {
        const t = performance.now();
        const decoded = await decodeSource(bytes, [plan], new StageTimer());
        if (rep > 0) runs.push(performance.now() - t);
        release(decoded.image.data);
      }
      runs.sort((a, b) => a - b);
      results.push({
        name,
        size: `${source.width}x${source.height}`,
        bytes: bytes.length,
        decodeMs: runs[Math.floor(runs.length / 2)],
      });
    }
    return results;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function run(command: string, args: string[]): Promise<void> {
  const { success } = await new Deno.Command(command, { args, stdout: "null", stderr: "null" }).output();
  if (!success) throw new Error(`${command} ${args.join(" ")} failed`);
}
