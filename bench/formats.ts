/**
 * The output formats and the WebP and HEIC sources, in this process:
 * 200x120 cover thumbnails of the corpus's JPEG photos written as JPEG,
 * WebP and AVIF (time per image and bytes), the GNOME WebP wallpapers as
 * sources, a few photos as HEIC against the same pixels as PNG, and TIFF
 * sources against PNG (tiff_sources.ts).
 *
 * @module
 */
import { coverCrop, DEFAULT_QUALITY } from "../src/job/planner.ts";
import type { OutputFormat, Plan } from "../protocol/plan.ts";
import { readHeader } from "../src/image/header.ts";
import { makeOne } from "./pipelines.ts";
import { StageTimer } from "../workers/ops/timer.ts";
import { type CorpusImage, GNOME_DIR } from "./corpus.ts";
import { compareTiffSources, type TiffSourceResult } from "./tiff_sources.ts";

const WIDTH = 200;
const HEIGHT = 120;
const OUTPUTS: OutputFormat[] = ["jpeg", "webp", "avif"];

/** Median ms and mean bytes per image, by output format. */
export interface FormatResult {
  output: Record<string, { ms: number; bytes: number; images: number }>;
  /** The WebP wallpapers to a 200x120 JPEG: decode and whole-job ms per image. */
  webpSources: { name: string; size: string; decodeMs: number; totalMs: number }[];
  /** Photos as HEIC and as PNG to a 200x120 JPEG: decode and whole-job ms per image (median); empty without heif-enc. */
  heicSources: { name: string; size: string; format: "heic" | "png"; decodeMs: number; totalMs: number }[];
  /** One photo as PNG and as TIFF in several codings: decode ms per image (tiff_sources.ts). */
  tiffSources: TiffSourceResult[];
}

function planOf(source: Plan["source"], format: OutputFormat): Plan {
  return {
    op: "resize",
    source,
    width: WIDTH,
    height: HEIGHT,
    format,
    quality: format === "jpeg" ? 80 : DEFAULT_QUALITY[format],
    mode: "cover",
    crop: coverCrop(source.width, source.height, WIDTH, HEIGHT),
  };
}

/**
 * Times each output format on each JPEG (median of `reps` after a warm-up),
 * then the WebP wallpapers once each. The codecs must be loaded in this
 * realm already (comparePipelines does it).
 */
export async function compareFormats(jpegs: CorpusImage[], reps: number): Promise<FormatResult> {
  const times: Record<string, number[]> = {};
  const sizes: Record<string, number[]> = {};
  for (const image of jpegs) {
    const bytes = await Deno.readFile(image.path);
    const source = readHeader(bytes, true);
    for (const format of OUTPUTS) {
      const runs: number[] = [];
      let out = new ArrayBuffer(0);
      for (let rep = 0; rep <= reps; rep++) {
        const t = performance.now();
        out = await makeOne(bytes, planOf(source, format), new StageTimer());
        if (rep > 0) runs.push(performance.now() - t);
      }
      (times[format] ??= []).push(median(runs));
      (sizes[format] ??= []).push(out.byteLength);
    }
  }
  const output: FormatResult["output"] = {};
  for (const format of OUTPUTS) {
    output[format] = {
      ms: times[format].reduce((a, b) => a + b, 0) / times[format].length,
      bytes: sizes[format].reduce((a, b) => a + b, 0) / sizes[format].length,
      images: times[format].length,
    };
  }
  const webpSources: FormatResult["webpSources"] = [];
  const names = [...Deno.readDirSync(GNOME_DIR)].map((e) => e.name).filter((n) => n.endsWith(".webp")).sort();
  for (const name of names) {
    const bytes = await Deno.readFile(`${GNOME_DIR}/${name}`);
    const source = readHeader(bytes, true);
    const timer = new StageTimer();
    const t = performance.now();
    await makeOne(bytes, planOf(source, "jpeg"), timer);
    webpSources.push({
      name,
      size: `${source.width}x${source.height}`,
      decodeMs: timer.times.decode ?? 0,
      totalMs: performance.now() - t,
    });
  }
  const heicSources = await compareHeicSources(jpegs, reps);
  // The largest photo of the corpus, so the decode dominates the time.
  const largest = jpegs.reduce((a, b) => (b.width * b.height > a.width * a.height ? b : a));
  const tiffSources = await compareTiffSources(largest.path, Math.max(reps, 5));
  return { output, webpSources, heicSources, tiffSources };
}

/** Photos of at most this many pixels are made into HEICs: x265 takes seconds a megapixel. */
const HEIC_MAX_PIXELS = 12_000_000;

/**
 * Up to three of the photos written as HEIC (heif-enc q80, x265's
 * ultrafast preset) and as PNG by Debian's tools, each resized to a
 * 200x120 JPEG `reps` times after a warm-up (which loads libheif).
 */
export async function compareHeicSources(jpegs: CorpusImage[], reps: number): Promise<FormatResult["heicSources"]> {
  const photos = jpegs.filter((i) => i.width * i.height <= HEIC_MAX_PIXELS).slice(0, 3);
  const dir = await Deno.makeTempDir({ prefix: "imgserve-bench-heic-" });
  const rows: FormatResult["heicSources"] = [];
  try {
    for (const photo of photos) {
      const png = `${dir}/${photo.name}.png`;
      const heic = `${dir}/${photo.name}.heic`;
      // EXIF orientation applied, so both sources hold the same upright pixels.
      if (!await run("convert", [photo.path, "-auto-orient", `PNG24:${png}`])) return [];
      if (!await run("heif-enc", ["-q", "80", "-p", "preset=ultrafast", "-o", heic, png])) return [];
      for (const [format, path] of [["heic", heic], ["png", png]] as const) {
        const bytes = await Deno.readFile(path);
        const source = readHeader(bytes, true);
        const decode: number[] = [], total: number[] = [];
        for (let rep = 0; rep <= reps; rep++) {
          const timer = new StageTimer();
          const t = performance.now();
          await makeOne(bytes, planOf(source, "jpeg"), timer);
          if (rep === 0) continue;
          total.push(performance.now() - t);
          decode.push(timer.times.decode ?? 0);
        }
        const size = `${source.width}x${source.height}`;
        rows.push({ name: photo.name, size, format, decodeMs: median(decode), totalMs: median(total) });
      }
    }
    return rows;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Runs a Debian tool; false when it is missing or fails (the bench then leaves its row out). */
async function run(command: string, args: string[]): Promise<boolean> {
  try {
    return (await new Deno.Command(command, { args, stdout: "null", stderr: "null" }).output()).success;
  } catch {
    return false;
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
