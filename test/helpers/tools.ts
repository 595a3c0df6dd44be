/**
 * Debian's image tools (ImageMagick, libwebp's and libavif's command-line
 * tools) as trusted references, and PSNR to compare with them.
 */
import { decode } from "./images.ts";

/** Runs a tool; throws with its error output when it fails. */
export async function tool(command: string, args: string[]): Promise<void> {
  const { success, stderr } = await new Deno.Command(command, { args, stdout: "null", stderr: "piped" }).output();
  if (!success) throw new Error(`${command} ${args.join(" ")}: ${new TextDecoder().decode(stderr)}`);
}

/** Writes a 64x32 PNG made by ImageMagick to `path`: the left half opaque red, the right half transparent. */
export async function halfRedPng(path: string): Promise<void> {
  await tool("convert", ["-size", "64x32", "xc:none", "-fill", "red", "-draw", "rectangle 0,0 31,31", path]);
}

/** An image file as ImageMagick reads it (profiles, irot/imir and all), as 8-bit RGBA pixels. */
export async function magickPixels(path: string, ...options: string[]): Promise<ImageData> {
  const png = `${path}.ref-${crypto.randomUUID()}.png`;
  try {
    await tool("convert", [path, ...options, "-depth", "8", `PNG32:${png}`]);
    return await decode(await Deno.readFile(png));
  } finally {
    await Deno.remove(png).catch(() => {});
  }
}

/** Pixels as RGBA bytes: an ImageData or a worker's result. */
export interface Pixels {
  data: ArrayLike<number>;
  width: number;
  height: number;
}

/** PSNR in dB over the RGB channels of two images of the same size. */
export function psnr(a: Pixels, b: Pixels): number {
  if (a.width !== b.width || a.height !== b.height) {
    throw new Error(`sizes differ: ${a.width}x${a.height} vs ${b.width}x${b.height}`);
  }
  let sum = 0;
  for (let i = 0; i < a.data.length; i += 4) {
    for (let c = 0; c < 3; c++) sum += (a.data[i + c] - b.data[i + c]) ** 2;
  }
  const mse = sum / (a.width * a.height * 3);
  return mse === 0 ? Infinity : 10 * Math.log10(255 * 255 / mse);
}

/** Whether a byte sequence occurs in a file (metadata markers such as "Exif"). */
export function contains(bytes: Uint8Array, text: string): boolean {
  const needle = new TextEncoder().encode(text);
  outer: for (let i = 0; i + needle.length <= bytes.length; i++) {
    for (let k = 0; k < needle.length; k++) if (bytes[i + k] !== needle[k]) continue outer;
    return true;
  }
  return false;
}
