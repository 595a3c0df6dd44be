/**
 * The timeline as an SVG chart: three panels over the same seconds (RSS,
 * jobs finished per second, busy workers), the phases shaded behind them.
 * Plain SVG text, so no browser or canvas is needed to make it.
 *
 * @module
 */
import type { Sample } from "./timeline.ts";

const WIDTH = 960;
const PANEL = 170;
const GAP = 34;
const LEFT = 64;
const RIGHT = 190;
const TOP = 40;
const PHASE_COLOURS = ["#f2f2f2", "#e3ecf7", "#f7efe0", "#e6f2e3", "#f3e6f0", "#ececec"];

interface Series {
  label: string;
  colour: string;
  values: number[];
  /** Draws steps (a count held for the second) rather than a line. */
  steps?: boolean;
}

/**
 * The chart of a timeline.
 *
 * @example
 * ```ts
 * await Deno.writeTextFile("memory.svg", timelineChart(timeline.samples, "2 workers"));
 * ```
 */
export function timelineChart(samples: Sample[], title: string): string {
  const plotWidth = WIDTH - LEFT - RIGHT;
  const tMax = Math.max(1, ...samples.map((s) => s.t));
  const x = (t: number) => LEFT + t / tMax * plotWidth;
  const panels: { title: string; unit: string; series: Series[] }[] = [
    {
      title: "RSS",
      unit: "MiB",
      series: [
        { label: "with render processes", colour: "#c0504d", values: samples.map((s) => s.rssMiB + s.childrenMiB) },
        { label: "server", colour: "#1f5fa8", values: samples.map((s) => s.rssMiB) },
      ],
    },
    {
      title: "jobs finished",
      unit: "per s",
      series: [{ label: "jobs finished", colour: "#3b8a3b", values: samples.map((s) => s.jobs), steps: true }],
    },
    {
      title: "busy workers",
      unit: "",
      series: [{ label: "busy workers", colour: "#7a4fa3", values: samples.map((s) => s.busy), steps: true }],
    },
  ];
  const height = TOP + panels.length * (PANEL + GAP) + 20;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" ` +
    `font-family="DejaVu Sans, Verdana, sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${LEFT}" y="22" font-size="14" font-weight="bold">${escape(title)}</text>`,
  ];
  // Phase bands, across every panel.
  const bands = phaseBands(samples);
  const bottom = TOP + panels.length * (PANEL + GAP) - GAP;
  bands.forEach((band, i) => {
    const x0 = x(band.from), x1 = x(band.to);
    out.push(
      `<rect x="${n(x0)}" y="${TOP}" width="${n(Math.max(0, x1 - x0))}" height="${bottom - TOP}" ` +
        `fill="${PHASE_COLOURS[i % PHASE_COLOURS.length]}"/>`,
      `<text x="${n(x0 + 3)}" y="${TOP + 12}" fill="#555">${escape(band.phase)}</text>`,
    );
  });
  panels.forEach((panel, p) => {
    const top = TOP + p * (PANEL + GAP);
    const all = panel.series.flatMap((s) => s.values).filter(Number.isFinite);
    const vMax = niceCeiling(Math.max(1, ...all));
    const y = (v: number) => top + PANEL - v / vMax * (PANEL - 16);
    out.push(
      `<line x1="${LEFT}" y1="${top + PANEL}" x2="${LEFT + plotWidth}" y2="${top + PANEL}" stroke="#888"/>`,
      `<line x1="${LEFT}" y1="${top}" x2="${LEFT}" y2="${top + PANEL}" stroke="#888"/>`,
      `<text x="${LEFT - 6}" y="${n(y(vMax) + 4)}" text-anchor="end">${vMax}</text>`,
      `<text x="${LEFT - 6}" y="${top + PANEL + 4}" text-anchor="end">0</text>`,
      `<text x="12" y="${top + PANEL / 2}" transform="rotate(-90 12 ${top + PANEL / 2})" text-anchor="middle">` +
        `${escape(panel.title)}${panel.unit ? ` (${panel.unit})` : ""}</text>`,
    );
    panel.series.forEach((series, i) => {
      const points: string[] = [];
      samples.forEach((sample, k) => {
        const v = series.values[k];
        if (!Number.isFinite(v)) return;
        if (series.steps && k > 0) points.push(`${n(x(samples[k - 1].t))},${n(y(v))}`);
        points.push(`${n(x(sample.t))},${n(y(v))}`);
      });
      out.push(
        `<polyline fill="none" stroke="${series.colour}" stroke-width="1.6" points="${points.join(" ")}"/>`,
        `<line x1="${LEFT + plotWidth + 10}" y1="${top + 14 + i * 16}" x2="${LEFT + plotWidth + 24}" ` +
          `y2="${top + 14 + i * 16}" stroke="${series.colour}" stroke-width="2"/>`,
        `<text x="${LEFT + plotWidth + 28}" y="${top + 18 + i * 16}">${escape(series.label)}</text>`,
      );
    });
  });
  // Time axis under the last panel.
  const step = niceCeiling(tMax / 10);
  for (let t = 0; t <= tMax; t += step) {
    out.push(`<text x="${n(x(t))}" y="${bottom + 14}" text-anchor="middle">${t}</text>`);
  }
  out.push(`<text x="${LEFT + plotWidth}" y="${bottom + 28}" text-anchor="end">seconds</text>`, `</svg>`);
  return out.join("\n") + "\n";
}

/** Consecutive runs of one phase, from the first sample's time to the next run's first. */
function phaseBands(samples: Sample[]): { phase: string; from: number; to: number }[] {
  const bands: { phase: string; from: number; to: number }[] = [];
  for (const sample of samples) {
    const last = bands.at(-1);
    if (last?.phase === sample.phase) last.to = sample.t;
    else {
      if (last) last.to = sample.t;
      bands.push({ phase: sample.phase, from: sample.t, to: sample.t });
    }
  }
  return bands;
}

/** 1, 2 or 5 times a power of ten, at least `v`. */
function niceCeiling(v: number): number {
  const power = 10 ** Math.floor(Math.log10(v));
  return [1, 2, 5, 10].map((m) => m * power).find((c) => c >= v)!;
}

function n(v: number): string {
  return v.toFixed(1);
}

function escape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
