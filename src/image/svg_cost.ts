/**
 * What rendering an SVG allocates beyond its canvas, estimated from its
 * text before any rendering: the pixels of the images embedded in it as
 * `data:` URLs (read from their headers, like any source) and the layers its
 * filters draw into. A 100x100 SVG can carry a 10000x10000 PNG; its header
 * alone says nothing about that.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { ImgserveError } from "../../protocol/error_codes.ts";
import { readHeader } from "./header.ts";

/** The estimate, in pixels (4 bytes each once decoded). */
export interface SvgCost {
  /** Embedded images, all of them, nested SVGs' own included. */
  embeddedPixels: number;
  /** The largest filter's layers: its region once per primitive, plus the source layer. */
  filterPixels: number;
}

/** Nested SVG images are followed this deep (resvg itself loads no images inside them). */
const MAX_DEPTH = 3;

/** The default filter region is the element's box plus 10% on each side; an element the canvas's size is assumed. */
const DEFAULT_REGION = 1.2 * 1.2;

/** resvg clips a layer to twice the canvas size around it: 4x4 canvases at most. */
const MAX_REGION = 16;

const HREF = /(?:^|[\s"'])(?:[A-Za-z_][\w.-]*:)?href\s*=\s*(?:"([^"]*)"|'([^']*)')/g;
const FILTER = /<filter\b([^>]*)>([\s\S]*?)<\/filter\s*>/gi;
const PRIMITIVE =
  /<fe(?:Blend|ColorMatrix|ComponentTransfer|Composite|ConvolveMatrix|DiffuseLighting|DisplacementMap|DropShadow|Flood|GaussianBlur|Image|Merge|Morphology|Offset|SpecularLighting|Tile|Turbulence)\b/g;

/**
 * Estimates an SVG's render cost for a canvas of `canvasPixels` drawn at
 * `scale` result pixels per SVG unit. Throws SOURCE_FORMAT_UNSUPPORTED for
 * an embedded image whose size cannot be read.
 *
 * @example
 * ```ts
 * const { embeddedPixels } = svgRenderCost(svgText, 800 * 600, 1);
 * ```
 */
export function svgRenderCost(svg: string, canvasPixels: number, scale: number): SvgCost {
  const cost = { embeddedPixels: 0, filterPixels: 0 };
  addCost(svg, canvasPixels, scale, 0, cost);
  return cost;
}

function addCost(svg: string, canvasPixels: number, scale: number, depth: number, cost: SvgCost): void {
  for (const match of svg.matchAll(HREF)) {
    const href = unescapeXml(match[1] ?? match[2]).trim();
    if (!/^data:/i.test(href)) continue; // external references are never loaded
    const bytes = dataUrlBytes(href);
    const size = imageSize(bytes);
    if (size.format === "svg") {
      if (depth < MAX_DEPTH) addCost(new TextDecoder().decode(bytes), canvasPixels, scale, depth + 1, cost);
    } else cost.embeddedPixels += size.width * size.height;
  }
  for (const [, attrs, body] of svg.matchAll(FILTER)) {
    const id = attribute(attrs, "id");
    if (id === undefined || !usesFilter(svg, id)) continue;
    const primitives = body.match(PRIMITIVE)?.length ?? 0;
    const layers = (primitives + 1) * regionFactor(attrs, canvasPixels, scale) * canvasPixels;
    cost.filterPixels = Math.max(cost.filterPixels, Math.round(layers));
  }
}

/** The filter region in canvases: its declared size where it gives one, else the default. */
function regionFactor(attrs: string, canvasPixels: number, scale: number): number {
  const width = attribute(attrs, "width");
  const height = attribute(attrs, "height");
  const userSpace = attribute(attrs, "filterUnits") === "userSpaceOnUse";
  const fraction = (value: string | undefined) => {
    if (value === undefined) return 1.2;
    const n = parseFloat(value);
    return value.trim().endsWith("%") ? n / 100 : n;
  };
  let factor: number;
  if (userSpace && width !== undefined && height !== undefined && !/%/.test(width + height)) {
    factor = parseFloat(width) * parseFloat(height) * scale * scale / canvasPixels;
  } else if (!userSpace && (width !== undefined || height !== undefined)) {
    factor = fraction(width) * fraction(height);
  } else factor = DEFAULT_REGION;
  return Number.isFinite(factor) ? Math.min(MAX_REGION, Math.max(0, factor)) : MAX_REGION;
}

/** Whether anything refers to the filter, by `url(#id)` in an attribute or a style. */
function usesFilter(svg: string, id: string): boolean {
  const escaped = id.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`url\\(\\s*['"]?#${escaped}['"]?\\s*\\)`).test(svg);
}

function attribute(attrs: string, name: string): string | undefined {
  const match = new RegExp(`(?:^|\\s)${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)')`).exec(attrs);
  return match ? unescapeXml(match[1] ?? match[2]).trim() : undefined;
}

const NAMED: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

/** Character and entity references, as the XML parser resolves them before resvg sees the value. */
function unescapeXml(value: string): string {
  return value.replace(/&(#x[0-9a-f]+|#[0-9]+|amp|lt|gt|quot|apos);/gi, (all, ref: string) => {
    if (ref[0] !== "#") return NAMED[ref.toLowerCase()] ?? all;
    const code = ref[1] === "x" || ref[1] === "X" ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
    return code <= 0x10ffff ? String.fromCodePoint(code) : all;
  });
}

/** The bytes of a data: URL: percent-decoded, then base64-decoded when it says so. */
function dataUrlBytes(url: string): Uint8Array {
  const comma = url.indexOf(",");
  const meta = comma < 0 ? url : url.slice(5, comma);
  const data = comma < 0 ? "" : url.slice(comma + 1);
  const raw = percentDecode(data);
  if (!/;\s*base64\s*$/i.test(meta)) return raw;
  // Lenient, like the renderer's decoder: whitespace and stray characters are skipped.
  return new Uint8Array(Buffer.from(new TextDecoder("latin1").decode(raw), "base64"));
}

function percentDecode(text: string): Uint8Array {
  const bytes = new TextEncoder().encode(text);
  const out = new Uint8Array(bytes.length);
  let n = 0;
  for (let i = 0; i < bytes.length; i++) {
    const hex = bytes[i] === 0x25 && i + 2 < bytes.length ? String.fromCharCode(bytes[i + 1], bytes[i + 2]) : "";
    if (/^[0-9a-f]{2}$/i.test(hex)) {
      out[n++] = parseInt(hex, 16);
      i += 2;
    } else out[n++] = bytes[i];
  }
  return out.subarray(0, n);
}

/** Size of an embedded image: PNG, JPEG and SVG by their headers, GIF and WebP here. */
function imageSize(bytes: Uint8Array): { format: string; width: number; height: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const text = String.fromCharCode(...bytes.subarray(0, 16));
  if (text.startsWith("GIF8") && bytes.length >= 10) {
    return { format: "gif", width: view.getUint16(6, true), height: view.getUint16(8, true) };
  }
  if (text.startsWith("RIFF") && text.slice(8, 12) === "WEBP" && bytes.length >= 30) {
    const chunk = text.slice(12, 16);
    if (chunk === "VP8X") {
      const u24 = (at: number) => bytes[at] | bytes[at + 1] << 8 | bytes[at + 2] << 16;
      return { format: "webp", width: u24(24) + 1, height: u24(27) + 1 };
    }
    if (chunk === "VP8L") {
      const bits = view.getUint32(21, true);
      return { format: "webp", width: (bits & 0x3fff) + 1, height: ((bits >> 14) & 0x3fff) + 1 };
    }
    if (chunk === "VP8 ") {
      return { format: "webp", width: view.getUint16(26, true) & 0x3fff, height: view.getUint16(28, true) & 0x3fff };
    }
  }
  try {
    return readHeader(bytes, true);
  } catch (err) {
    // resvg decodes the embedded image too: a limit on its decoding holds for it.
    if (err instanceof ImgserveError && err.name === "TOO_MANY_SCANS") throw err;
    throw new ImgserveError(
      "SOURCE_FORMAT_UNSUPPORTED",
      "the SVG embeds an image whose size cannot be read; embedded images must be PNG, JPEG, GIF, WebP or SVG",
    );
  }
}

/**
 * Refuses an SVG whose embedded images and filter layers together come to
 * more than `maxPixels`, when drawn `width` x `height` from an SVG whose own
 * size is `svgWidth` units wide.
 */
export function assertRenderCost(
  svg: Uint8Array,
  size: { width: number; height: number; svgWidth: number },
  maxPixels: number,
): void {
  const { embeddedPixels, filterPixels } = svgRenderCost(
    new TextDecoder().decode(svg),
    size.width * size.height,
    size.width / size.svgWidth,
  );
  if (embeddedPixels + filterPixels > maxPixels) {
    const parts = [
      embeddedPixels > 0 ? `embedded images of ${embeddedPixels} pixels` : "",
      filterPixels > 0 ? `filter layers of about ${filterPixels} pixels` : "",
    ].filter(Boolean).join(" and ");
    throw new ImgserveError(
      "TOO_MANY_PIXELS",
      `drawing this SVG at ${size.width}x${size.height} needs ${parts}, over the limit of ${maxPixels} pixels`,
    );
  }
}
