/**
 * Placeholders made once per format and size and then reused: a server
 * sees the same few thumbnail sizes again and again, and a PNG placeholder
 * costs a deflate stream (about 5 ms at 200x120) where handing out the
 * kept bytes costs nothing. Bounded in entries and in bytes, the least
 * recently used going first; a placeholder too large to keep is made for
 * its job alone.
 *
 * @module
 */
import type { OutputFormat } from "../../protocol/plan.ts";
import { placeholderFor } from "./placeholder.ts";

/** How much a {@linkcode PlaceholderCache} keeps. */
export interface PlaceholderCacheLimits {
  /** Placeholders kept at most. */
  entries: number;
  /** Their bytes in all at most; one larger than a quarter of this is never kept. */
  bytes: number;
}

/** Makes a placeholder: {@linkcode placeholderFor} unless a test counts the calls. */
export type MakePlaceholder = (format: OutputFormat, width: number, height: number) => Promise<Uint8Array<ArrayBuffer>>;

/**
 * Thumbnail placeholders are a few hundred bytes (a JPEG's scan is two bits
 * per 8x8 block), so these bounds keep every size a busy server sees while
 * a run of odd huge sizes costs at most 2 MiB.
 */
export const PLACEHOLDER_CACHE_LIMITS: PlaceholderCacheLimits = { entries: 64, bytes: 2 << 20 };

interface Entry {
  made: Promise<Uint8Array<ArrayBuffer>>;
  /** Known once made. */
  size: number;
}

/**
 * Placeholders by format, width and height. The bytes handed out are
 * shared by every job of that size: they are uploaded and digested, never
 * changed or transferred.
 *
 * @example
 * ```ts
 * const cache = new PlaceholderCache();
 * const a = await cache.get("png", 200, 120);
 * a === await cache.get("png", 200, 120); // true: made once
 * ```
 */
export class PlaceholderCache {
  readonly #limits: PlaceholderCacheLimits;
  readonly #make: MakePlaceholder;
  /** In order of last use, oldest first. */
  readonly #entries = new Map<string, Entry>();
  #bytes = 0;

  constructor(limits: PlaceholderCacheLimits = PLACEHOLDER_CACHE_LIMITS, make: MakePlaceholder = placeholderFor) {
    this.#limits = limits;
    this.#make = make;
  }

  /** Placeholders kept now. */
  get entries(): number {
    return this.#entries.size;
  }

  /** Their bytes in all. */
  get bytes(): number {
    return this.#bytes;
  }

  /** The placeholder of `width` x `height` in `format`, made on first use. */
  get(format: OutputFormat, width: number, height: number): Promise<Uint8Array<ArrayBuffer>> {
    const key = `${format} ${width}x${height}`;
    const kept = this.#entries.get(key);
    if (kept) {
      this.#entries.delete(key);
      this.#entries.set(key, kept);
      return kept.made;
    }
    // The promise is kept at once, so jobs of a new size arriving together share one making.
    const entry: Entry = { made: this.#make(format, width, height), size: 0 };
    this.#entries.set(key, entry);
    entry.made.then((bytes) => {
      if (this.#entries.get(key) !== entry) return;
      if (bytes.byteLength > this.#limits.bytes / 4) {
        this.#entries.delete(key);
        return;
      }
      entry.size = bytes.byteLength;
      this.#bytes += entry.size;
      this.#evict();
    }, () => {
      if (this.#entries.get(key) === entry) this.#entries.delete(key);
    });
    this.#evict();
    return entry.made;
  }

  #evict(): void {
    for (const [key, entry] of this.#entries) {
      if (this.#entries.size <= this.#limits.entries && this.#bytes <= this.#limits.bytes) return;
      this.#entries.delete(key);
      this.#bytes -= entry.size;
    }
  }
}

/** The server's placeholders: one cache for every job. */
export const placeholders: PlaceholderCache = new PlaceholderCache();
