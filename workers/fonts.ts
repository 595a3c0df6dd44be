/**
 * Font files for SVG text, read once per worker from the system font
 * folders and any `--font-dir`, plus fallback fonts that ship inside
 * imgserve, so text renders on a host without fonts.
 *
 * @module
 */
import type { FontSet } from "./ops/rasterize.ts";
// Imported as bytes, so `deno compile` puts them inside the executable.
import dejavuSans from "dejavu-fonts-ttf/ttf/DejaVuSans.ttf" with { type: "bytes" };
import dejavuSerif from "dejavu-fonts-ttf/ttf/DejaVuSerif.ttf" with { type: "bytes" };
import dejavuSansMono from "dejavu-fonts-ttf/ttf/DejaVuSansMono.ttf" with { type: "bytes" };

/** The fallback fonts: DejaVu Sans, Serif and Sans Mono (the generic sans-serif, serif and monospace). */
export const BUNDLED_FONTS: readonly Uint8Array[] = [dejavuSans, dejavuSerif, dejavuSansMono];

const FONT_FILE = /\.(ttf|otf|ttc)$/i;
/** Keeps a machine with huge font collections from filling each worker's memory. */
const MAX_FONT_BYTES = 256 * 1024 * 1024;

/**
 * Reads every font file under `dirs` (recursively; missing folders are
 * skipped), then adds each bundled font whose family none of them has.
 */
export async function loadFonts(dirs: string[]): Promise<FontSet> {
  const buffers: Uint8Array[] = [];
  const families = new Set<string>();
  let total = 0;
  const visit = async (dir: string, depth: number) => {
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(dir));
    } catch {
      return;
    }
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const entry of entries) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory && depth < 8) await visit(path, depth + 1);
      else if (entry.isFile && FONT_FILE.test(entry.name) && total < MAX_FONT_BYTES) {
        const bytes = await Deno.readFile(path);
        total += bytes.length;
        buffers.push(bytes);
        const family = familyName(bytes);
        if (family) families.add(family);
      }
    }
  };
  for (const dir of dirs) await visit(dir, 0);
  for (const font of BUNDLED_FONTS) {
    const family = familyName(font)!;
    if (families.has(family)) continue;
    buffers.push(font);
    families.add(family);
  }
  return { buffers, families };
}

/** The family name (name ID 1) of a TrueType/OpenType font, if readable. */
export function familyName(font: Uint8Array): string | undefined {
  try {
    const view = new DataView(font.buffer, font.byteOffset, font.byteLength);
    let offset = 0;
    if (view.getUint32(0) === 0x74746366) offset = view.getUint32(12); // 'ttcf': first face
    const tables = view.getUint16(offset + 4);
    for (let i = 0; i < tables; i++) {
      const rec = offset + 12 + i * 16;
      if (view.getUint32(rec) !== 0x6e616d65) continue; // 'name'
      const name = view.getUint32(rec + 8);
      const count = view.getUint16(name + 2);
      const strings = name + view.getUint16(name + 4);
      for (let j = 0; j < count; j++) {
        const r = name + 6 + j * 12;
        const platform = view.getUint16(r);
        const nameId = view.getUint16(r + 6);
        if (nameId !== 1) continue;
        const length = view.getUint16(r + 8);
        const start = strings + view.getUint16(r + 10);
        const raw = font.subarray(start, start + length);
        if (platform === 3 || platform === 0) {
          let s = "";
          for (let k = 0; k + 1 < raw.length; k += 2) s += String.fromCharCode((raw[k] << 8) | raw[k + 1]);
          return s;
        }
        if (platform === 1) return new TextDecoder("latin1").decode(raw);
      }
    }
  } catch {
    // An unreadable name table only costs us the default-family choice.
  }
  return undefined;
}

/** The concrete families tried, in order, for each generic one. */
const GENERIC_FAMILIES: Record<string, string[]> = {
  "sans-serif": ["DejaVu Sans", "Liberation Sans", "Noto Sans"],
  serif: ["DejaVu Serif", "Liberation Serif", "Noto Serif"],
  monospace: ["DejaVu Sans Mono", "Liberation Mono", "Noto Sans Mono"],
};

/**
 * Puts a concrete family before each generic one (`serif` becomes
 * `DejaVu Serif, serif`) in the SVG's font-family attributes, style
 * attributes and style sheets. resvg's WebAssembly build maps every generic
 * family to its default one, so serif and monospace text was drawn in sans.
 *
 * @example
 * ```ts
 * const svg = withConcreteFamilies('<text font-family="serif">a</text>', await loadFonts([]));
 * // '<text font-family="DejaVu Serif, serif">a</text>'
 * ```
 */
export function withConcreteFamilies(svg: string, fonts: FontSet): string {
  if (!/serif|monospace/i.test(svg)) return svg;
  const concrete = new Map<string, string>();
  for (const [generic, names] of Object.entries(GENERIC_FAMILIES)) {
    const name = names.find((n) => fonts.families.has(n));
    if (name) concrete.set(generic, name);
  }
  // Family names may go unquoted: the result is valid inside either kind of quotes.
  const list = (families: string) =>
    families.split(",").map((item) => {
      const name = concrete.get(item.trim().toLowerCase());
      return name ? item.replace(/\S.*\S|\S/, (generic) => `${name}, ${generic}`) : item;
    }).join(",");
  const css = (text: string) => text.replace(/(font-family\s*:)([^;}]*)/gi, (_, head, value) => head + list(value));
  // Negated classes, not lazy dots: every pattern stays linear on hostile input.
  const attribute = (name: string, rewrite: (value: string) => string) => (text: string) =>
    text.replace(
      new RegExp(`(\\s${name}\\s*=\\s*)(?:"([^"]*)"|'([^']*)')`, "gi"),
      (_, head, double, single) => double !== undefined ? `${head}"${rewrite(double)}"` : `${head}'${rewrite(single)}'`,
    );
  return inStyleSheets(attribute("style", css)(attribute("font-family", list)(svg)), css);
}

/** Applies `rewrite` to the text of each `<style>` element. */
function inStyleSheets(svg: string, rewrite: (css: string) => string): string {
  const lower = svg.toLowerCase();
  let out = "";
  let at = 0;
  while (true) {
    const open = lower.indexOf("<style", at);
    const body = open < 0 ? -1 : lower.indexOf(">", open);
    const close = body < 0 ? -1 : lower.indexOf("</style", body);
    if (close < 0) break;
    out += svg.slice(at, body + 1) + rewrite(svg.slice(body + 1, close));
    at = close;
  }
  return out + svg.slice(at);
}
