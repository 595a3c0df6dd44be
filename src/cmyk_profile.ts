/**
 * The CMYK ICC profile that CMYK JPEGs without an embedded one are
 * converted through (libvips does the same with its built-in one). Read once
 * at start; the workers get its bytes.
 *
 * @module
 */
import { ConfigError } from "./preflight.ts";

/** Where systems install a standard CMYK profile, in the order tried: Ghostscript's (Debian's libgs-common). */
export const SYSTEM_CMYK_PROFILES = ["/usr/share/color/icc/ghostscript/default_cmyk.icc"];

/** No real profile comes near this; the read stays bounded. */
const MAX_BYTES = 4 << 20;

/** A `--cmyk-profile` that cannot be used; its message is the whole report. */
export class CmykProfileError extends ConfigError {
  override name = "CmykProfileError";
}

/** The loaded profile and where it came from. */
export interface CmykProfile {
  path: string;
  bytes: Uint8Array<ArrayBuffer>;
}

/**
 * `--cmyk-profile`: a file that must be a CMYK ICC profile, "none", or
 * (undefined) the first usable one of {@linkcode SYSTEM_CMYK_PROFILES}.
 * Undefined when there is none: such JPEGs then get the plain formula.
 *
 * @example
 * ```ts
 * const profile = await loadCmykProfile(config.cmykProfile);
 * ```
 */
export async function loadCmykProfile(
  path: string | undefined,
  candidates: string[] = SYSTEM_CMYK_PROFILES,
): Promise<CmykProfile | undefined> {
  if (path === "none") return undefined;
  if (path !== undefined) return { path, bytes: await readProfile(path) };
  for (const candidate of candidates) {
    try {
      return { path: candidate, bytes: await readProfile(candidate) };
    } catch {
      // Absent or unusable here: the next one, or none.
    }
  }
  return undefined;
}

async function readProfile(path: string): Promise<Uint8Array<ArrayBuffer>> {
  const fail = (why: string) =>
    new CmykProfileError(`--cmyk-profile ${path}: ${why}; give a CMYK ICC profile (.icc), or "none"`);
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    const info = await Deno.stat(path);
    if (!info.isFile) throw fail("not a file");
    if (info.size > MAX_BYTES) throw fail(`${info.size} bytes, more than any ICC profile`);
    bytes = await Deno.readFile(path);
  } catch (err) {
    if (err instanceof CmykProfileError) throw err;
    throw fail(`cannot be read (${(err as Error).message.replace(/\s*\(os error \d+\).*$/, "")})`);
  }
  const tag = (at: number) => new TextDecoder().decode(bytes.subarray(at, at + 4));
  const declared = bytes.length >= 132 ? new DataView(bytes.buffer).getUint32(0) : 0;
  if (tag(36) !== "acsp" || declared < 132 || declared > bytes.length) throw fail("not an ICC profile");
  if (tag(16) !== "CMYK") throw fail(`an ICC profile for ${tag(16).trim()}, not CMYK`);
  return bytes;
}
