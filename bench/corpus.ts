/**
 * The benchmark's images: Debian's mate-backgrounds photos and drawings
 * (JPEG and PNG) and gnome-backgrounds' SVGs, installed with apt-get when
 * missing.
 *
 * @module
 */
import { readHeader } from "../src/image/header.ts";
import type { SourceFormat } from "../protocol/plan.ts";
import type { JobSpec } from "./load.ts";

/** Where Debian puts the two packages' images. */
export const MATE_DIR = "/usr/share/backgrounds/mate";
export const GNOME_DIR = "/usr/share/backgrounds/gnome";
const PACKAGES = ["mate-backgrounds", "gnome-backgrounds"];

/** One source image and what its header says. */
export interface CorpusImage {
  path: string;
  name: string;
  format: SourceFormat;
  width: number;
  height: number;
  /** EXIF orientation 1-8 (1 for PNG and SVG). */
  orientation: number;
  bytes: number;
  /** For JPEGs: baseline (SOF0/1) or progressive (SOF2). */
  coding?: "baseline" | "progressive";
}

/** Installs the packages if their folders are missing, saying so. */
export async function ensureCorpus(): Promise<void> {
  const missing = [];
  if (!await hasFiles(MATE_DIR)) missing.push(PACKAGES[0]);
  if (!await hasFiles(GNOME_DIR)) missing.push(PACKAGES[1]);
  if (missing.length === 0) return;
  const root = Deno.uid() === 0;
  console.log(`bench: installing ${missing.join(" ")} with apt-get${root ? "" : " (sudo)"} for the image corpus`);
  const prefix = root ? [] : ["sudo", "-n"];
  for (const args of [["apt-get", "update"], ["apt-get", "install", "-y", "--no-install-recommends", ...missing]]) {
    const [cmd, ...rest] = [...prefix, ...args];
    const { code } = await new Deno.Command(cmd, {
      args: rest,
      env: { DEBIAN_FRONTEND: "noninteractive" },
      stdout: "inherit",
      stderr: "inherit",
    }).output();
    if (code !== 0) throw new Error(`${[cmd, ...rest].join(" ")} failed (exit ${code}); install ${missing} by hand`);
  }
}

async function hasFiles(dir: string): Promise<boolean> {
  try {
    for await (const _ of Deno.readDir(dir)) return true;
  } catch {
    // missing folder: not installed
  }
  return false;
}

/** Every PNG, JPEG and SVG of the corpus, sorted by path. */
export async function listCorpus(): Promise<CorpusImage[]> {
  const paths: string[] = [];
  for (const dir of [MATE_DIR, GNOME_DIR]) await collect(dir, paths);
  const images: CorpusImage[] = [];
  for (const path of paths.sort()) {
    const data = await Deno.readFile(path);
    let header;
    try {
      header = readHeader(data, true);
    } catch {
      continue; // not an image this server takes
    }
    images.push({
      path,
      name: path.slice(path.lastIndexOf("/") + 1),
      format: header.format,
      width: header.width,
      height: header.height,
      orientation: header.orientation,
      bytes: data.length,
      coding: header.format === "jpeg" ? jpegCoding(data) : undefined,
    });
  }
  return images;
}

async function collect(dir: string, into: string[]): Promise<void> {
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) await collect(path, into);
    else if (entry.isFile && /\.(jpe?g|png|svg)$/i.test(entry.name)) into.push(path);
  }
}

/** Baseline or progressive, from the first SOF marker. */
export function jpegCoding(data: Uint8Array): "baseline" | "progressive" {
  let at = 2;
  while (at + 4 <= data.length && data[at] === 0xff) {
    const marker = data[at + 1];
    if (marker === 0xc2) return "progressive";
    if (marker === 0xc0 || marker === 0xc1) return "baseline";
    at += 2 + (data[at + 2] << 8 | data[at + 3]);
  }
  return "baseline";
}

/**
 * The bench's job for each corpus image: a 200x120 cover JPEG thumbnail of
 * a photo, a 400-wide PNG of a drawing, written into outDir under the
 * client's `{slot}` so concurrent clients never share a destination.
 */
export function corpusJobs(corpus: CorpusImage[], outDir: string): JobSpec[] {
  return corpus.map((image) => {
    const raster = image.format !== "svg";
    const ext = raster ? "jpg" : "png";
    return {
      body: {
        operationType: raster ? "resize" : "rasterize",
        srcURL: `file://${image.path}`,
        dstURL: `file://${outDir}/{slot}-${image.name}.${ext}`,
        args: raster ? { width: 200, height: 120, mode: "cover", format: "jpeg", quality: 80 } : { width: 400 },
      },
      megapixels: raster ? image.width * image.height / 1e6 : 400 * (400 * image.height / image.width) / 1e6,
    };
  });
}

/** How many of the largest photos and of the largest PNGs the second load takes. */
const LARGEST = 6;

/**
 * The bench's second load, heavier everyday work: the LARGEST largest JPEG
 * photos and PNGs of the corpus (by pixels; 2.5 to 17.9 MP) resized to
 * 600x400 cover PNGs.
 */
export function largeImageJobs(corpus: CorpusImage[], outDir: string): JobSpec[] {
  const largest = (format: string) =>
    corpus.filter((i) => i.format === format).sort((a, b) => b.width * b.height - a.width * a.height).slice(0, LARGEST);
  return [...largest("jpeg"), ...largest("png")].map((image) => ({
    body: {
      operationType: "resize",
      srcURL: `file://${image.path}`,
      dstURL: `file://${outDir}/{slot}-large-${image.name}.png`,
      args: { width: 600, height: 400, mode: "cover", format: "png" },
    },
    megapixels: image.width * image.height / 1e6,
  }));
}
