/**
 * The image worker's own reads and writes of files on this machine, done
 * in the worker's thread: a big photo read, or a result stored, costs the
 * server's thread nothing. The server has checked every path first (see
 * the file:// transport's `localSource` and `localPath`).
 *
 * @module
 */
import { ImgserveError } from "../protocol/error_codes.ts";
import { openRegularFile, readError, replaceThroughTemp, writeNew } from "../shared/local_file.ts";
import { tempPathFor } from "../shared/keep.ts";
import type { LocalSource, StageTimes } from "../protocol/work.ts";
import { dirname } from "../shared/paths.ts";
import { closeSync, readSync } from "node:fs";
import { release } from "./ops/release.ts";

/**
 * Writes a checked path through a temporary file and a rename, in this
 * thread: the image workers store results on this machine themselves, so
 * the file system's cost (an ext4 rename over a file starts its writeback)
 * is spread over their threads instead of the server's one. The path was
 * checked before the image was made; its folder must still be the real
 * folder it was then, so a symlink swapped in meanwhile leads nowhere.
 * `temp` is the job's own temporary name (see keep.ts).
 *
 * @example
 * ```ts
 * writeFileAtomic("/srv/out/a.png", bytes, "/srv/out/.imgserve-0b6….result.tmp");
 * ```
 */
export function writeFileAtomic(path: string, bytes: Uint8Array, temp = tempPathFor(path)): void {
  const dir = dirname(path);
  replaceThroughTemp(path, temp, () => {
    Deno.mkdirSync(dir, { recursive: true });
    if (Deno.realPathSync(dir) !== dir) throw new Error("its folder changed since it was checked");
    writeNew(temp, bytes);
  });
}

/**
 * Stores a made result at its checked local path (as writeFileAtomic) and
 * frees its bytes; returns `times` with the write's own. Throws when the
 * path cannot be written.
 */
export function storeResult(path: string, temp: string | undefined, bytes: ArrayBuffer, times: StageTimes): StageTimes {
  const started = performance.now();
  writeFileAtomic(path, new Uint8Array(bytes), temp);
  release(bytes);
  return { ...times, write: performance.now() - started };
}

/**
 * Reads a checked local source into `buffer` (which must hold
 * `source.size` bytes) in this thread and returns the part filled: the
 * image workers read local sources themselves, into memory they reuse, so
 * a big photo costs neither the server's thread nor fresh pages per job.
 * Only the file that was checked is read: one put in its place since
 * (a replaced file, a swapped symlink) is refused as SOURCE_CHANGED, and a
 * retry checks it anew.
 *
 * @example
 * ```ts
 * const bytes = readLocalSource(source, new Uint8Array(source.size));
 * ```
 */
export function readLocalSource(source: LocalSource, buffer: Uint8Array): Uint8Array {
  const { fd, info } = openRegularFile(source.path);
  try {
    if (info.dev !== source.dev || info.ino !== source.ino) {
      throw new ImgserveError("SOURCE_CHANGED", `${source.path} was replaced after it was checked`);
    }
    let filled = 0;
    while (filled < source.size) {
      const n = readSync(fd, buffer, filled, source.size - filled, null);
      if (n === 0) break;
      filled += n;
    }
    return buffer.subarray(0, filled);
  } catch (err) {
    throw readError(source.path, err);
  } finally {
    closeSync(fd);
  }
}
