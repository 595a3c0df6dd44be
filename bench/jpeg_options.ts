/**
 * The thumbnail JPEG encoder's options, each against the one used
 * (MozJPEG through `@jsquash/jpeg`, baseline, Huffman tables optimised,
 * trellis quantisation on, its quantisation table 3): the 200x120 cover
 * thumbnails of the baseline corpus photos encoded at qualities 70-90,
 * each variant's bytes and encode time read at the PSNR the one used
 * gives at q80 (interpolated between the two qualities around it), so a
 * smaller file means the same quality for fewer bytes. PSNR is against
 * the pixels before encoding. The variants take turns, image by image.
 *
 * `deno run -A bench/jpeg_options.ts [--reps N]`
 *
 * @module
 */
import { parseArgs } from "node:util";
import decodeJpeg from "@jsquash/jpeg/decode.js";
import encodeJpeg from "@jsquash/jpeg/encode.js";
import { loadCodecs } from "../workers/wasm.ts";
import { resizePixels } from "../workers/pipeline/mod.ts";
import { StageTimer } from "../workers/ops/timer.ts";
import { ensureCorpus, listCorpus } from "./corpus.ts";
import { planOf, psnr } from "./pipelines.ts";
import { table } from "./report.ts";

/** The options of encode.ts, and one change each. */
const VARIANTS: [string, Record<string, unknown>][] = [
  ["used: baseline, optimised Huffman, trellis", { progressive: false }],
  ["Huffman tables not optimised", { progressive: false, optimize_coding: false }],
  ["progressive", { progressive: true }],
  ["trellis over the scans (multipass)", { progressive: true, trellis_multipass: true }],
  ["trellis EOB optimisation", { progressive: false, trellis_opt_zero: true }],
  ["trellis quantisation-table optimisation", { progressive: false, trellis_opt_table: true }],
  ["trellis 2 loops", { progressive: false, trellis_loops: 2 }],
  ["quantisation table 0 (JPEG Annex K)", { progressive: false, quant_table: 0 }],
];
const QUALITIES = [70, 74, 78, 80, 82, 86, 90];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

interface Point {
  quality: number;
  psnr: number;
  bytes: number;
  ms: number;
}

/** Bytes and ms at `target` dB, between the two qualities around it. */
function atPsnr(points: Point[], target: number): { bytes: number; ms: number; quality: number } | undefined {
  for (let k = 1; k < points.length; k++) {
    const [a, b] = [points[k - 1], points[k]];
    if (a.psnr <= target && target <= b.psnr) {
      const f = (target - a.psnr) / (b.psnr - a.psnr);
      const mix = (x: number, y: number) => x + f * (y - x);
      return { bytes: mix(a.bytes, b.bytes), ms: mix(a.ms, b.ms), quality: mix(a.quality, b.quality) };
    }
  }
  return undefined;
}

const { values } = parseArgs({ args: Deno.args, options: { reps: { type: "string", default: "5" } } });
const reps = Number(values.reps);
await ensureCorpus();
await loadCodecs();
const photos = (await listCorpus()).filter((i) => i.format === "jpeg" && i.coding === "baseline");
const thumbnails = await Promise.all(
  photos.map(async (p) => await resizePixels(await Deno.readFile(p.path), planOf(p), new StageTimer())),
);
// Variants take turns on each photo and rep, so the machine's load falls on all alike.
const curves: Point[][] = VARIANTS.map(() => []);
for (const quality of QUALITIES) {
  const sums = VARIANTS.map(() => ({ bytes: 0, ms: 0, db: 0 }));
  for (const pixels of thumbnails) {
    const image = new ImageData(pixels.data, pixels.width, pixels.height);
    const times: number[][] = VARIANTS.map(() => []);
    const outs: ArrayBuffer[] = [];
    for (let rep = 0; rep <= reps; rep++) {
      for (const [k, [, options]] of VARIANTS.entries()) {
        const t = performance.now();
        outs[k] = await encodeJpeg(image, { ...options, quality });
        if (rep > 0) times[k].push(performance.now() - t);
      }
    }
    for (const [k, out] of outs.entries()) {
      sums[k].ms += median(times[k]);
      sums[k].bytes += out.byteLength;
      sums[k].db += psnr(pixels.data, (await decodeJpeg(out)).data);
    }
  }
  for (const [k, sum] of sums.entries()) {
    curves[k].push({ quality, psnr: sum.db / thumbnails.length, bytes: sum.bytes, ms: sum.ms });
  }
}
const target = curves[0].find((p) => p.quality === 80)!.psnr;
const used = atPsnr(curves[0], target)!;
console.log(
  `${photos.length} thumbnails 200x120, sums over them; at the used encoder's q80 PSNR (mean ${target.toFixed(2)} dB)`,
);
console.log(table(
  ["encoder", "quality there", "bytes", "vs used", "encode ms", "vs used"],
  VARIANTS.map(([name], k) => {
    const at = atPsnr(curves[k], target);
    if (!at) return [name, "out of range", "", "", "", ""];
    return [
      name,
      at.quality.toFixed(1),
      at.bytes.toFixed(0),
      `${(at.bytes / used.bytes).toFixed(3)}x`,
      at.ms.toFixed(1),
      `${(at.ms / used.ms).toFixed(2)}x`,
    ];
  }),
));
