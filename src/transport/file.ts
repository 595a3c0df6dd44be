/**
 * `file://` sources and destinations. Writes go to a temporary file in the
 * destination folder and are renamed into place, so a reader sees the old
 * file or the new one, never half of one.
 *
 * @module
 */
import { ImgserveError } from "../../protocol/error_codes.ts";
import { type FileRoots, within } from "../security/files.ts";
import { keptName, tempNamesOf, tempPathFor } from "../../shared/keep.ts";
import { checkDeclaredSize, type TransferOptions, type Transport, type TransportSetup } from "./mod.ts";
import type { LocalSource } from "../../protocol/work.ts";
import {
  notRegular,
  openRegularFile,
  readError,
  removeIfThere,
  replaceThroughTemp,
  writeNew,
} from "../../shared/local_file.ts";
import { closeSync, read, readSync } from "node:fs";
import { beside, dirname } from "../../shared/paths.ts";

/** node:fs `read` on a blocking thread, as a promise of the bytes read. */
function readAsync(fd: number, buffer: Uint8Array, offset: number, length: number): Promise<number> {
  return new Promise((resolve, reject) =>
    read(fd, buffer, offset, length, null, (err, n) => err ? reject(err) : resolve(n))
  );
}

/**
 * The local path of a file URL; only an empty host or `localhost` is
 * accepted.
 */
export function pathOf(url: URL, role: "source" | "destination"): string {
  if (url.hostname !== "" && url.hostname !== "localhost") {
    throw new ImgserveError("BAD_URL", `a file:// ${role} must name no host (file:///path), not "${url.hostname}"`);
  }
  try {
    return decodeURIComponent(url.pathname);
  } catch {
    throw new ImgserveError("BAD_URL", `the ${role} path has a malformed percent-encoding`);
  }
}

/** Checks a source file and returns what a worker needs to read it. */
function checkedSource(roots: FileRoots, url: URL, options: TransferOptions): LocalSource {
  const path = roots.source(pathOf(url, "source"));
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(path);
  } catch (err) {
    throw readError(path, err);
  }
  if (!info.isFile) throw notRegular(path, info);
  checkDeclaredSize(info.size, options);
  return { path, dev: info.dev, ino: info.ino ?? 0, size: info.size };
}

/**
 * The checked path of a destination file, and what is there now. A folder
 * (a root itself, say) is refused before anything is written: its
 * temporary file would land in the folder above, possibly outside every
 * root.
 */
function checkedDestination(roots: FileRoots, url: URL): { path: string; info?: Deno.FileInfo } {
  if (url.pathname.endsWith("/")) {
    throw new ImgserveError("BAD_DESTINATION_NAME", `the destination ${url.pathname} names a folder, not a file`);
  }
  const { path, exists } = roots.destinationEntry(pathOf(url, "destination"));
  let info: Deno.FileInfo | undefined;
  try {
    if (exists) info = Deno.statSync(path);
  } catch {
    // gone meanwhile
  }
  if (info?.isDirectory || roots.roots.includes(path)) {
    throw new ImgserveError("DESTINATION_IS_FOLDER", `the destination ${path} is a folder; name a file in it`);
  }
  return { path, info };
}

function destinationPath(roots: FileRoots, url: URL): string {
  return checkedDestination(roots, url).path;
}

/** The identity of a file on this machine: hard links and symlinks to one file share it. */
function fileKey(info: { dev: number; ino: number | null }): string {
  return `file:${info.dev}:${info.ino}`;
}

/** Writes up to this size are done in place, bigger ones on a blocking thread. */
const SYNC_WRITE_BYTES = 1024 * 1024;

/** What the first read takes: enough for any image header we parse. */
const HEADER_CHUNK = 64 * 1024;

/**
 * The file's bytes as two chunks, asked for one at a time: the header-sized
 * start, read in place into a buffer of its own (a small allocation reuses
 * memory the process has; a big one's fresh pages cost more than the read),
 * then the rest in one read on a blocking thread. A local photo to resize
 * never gets that far: its worker reads it. A file that grows meanwhile is
 * read as far as its size was.
 */
function wholeFileStream(fd: number, size: number): ReadableStream<Uint8Array> {
  let filled = 0;
  // A cancel may come after the last read closed the file.
  let open = true;
  const close = () => {
    if (open) closeSync(fd);
    open = false;
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const first = filled === 0;
        const chunk = new Uint8Array(first ? Math.min(size, HEADER_CHUNK) : size - filled);
        let n = 0;
        while (n < chunk.byteLength) {
          const got = first
            ? readSync(fd, chunk, n, chunk.byteLength - n, null)
            : await readAsync(fd, chunk, n, chunk.byteLength - n);
          if (got === 0) break;
          n += got;
        }
        filled += n;
        if (n > 0) controller.enqueue(n === chunk.byteLength ? chunk : chunk.subarray(0, n));
        if (n < chunk.byteLength || filled === size) {
          close();
          controller.close();
        }
      } catch (err) {
        close();
        controller.error(err);
      }
    },
    cancel() {
      close();
    },
  }, { highWaterMark: 0 }); // read only when asked: a worker may read the rest itself
}

/** Creates `temp` beside `path` on a blocking thread; resolves to the failure, if any. */
async function writeNewOffThread(path: string, temp: string, bytes: Uint8Array): Promise<unknown> {
  try {
    Deno.mkdirSync(dirname(path), { recursive: true });
    removeIfThere(temp);
    await Deno.writeFile(temp, bytes, { mode: 0o644, createNew: true });
  } catch (err) {
    return err;
  }
}

/** Opens a checked source file; the header is read in place, see {@linkcode wholeFileStream}. */
function openSource(path: string, options: TransferOptions): ReadableStream<Uint8Array> {
  const { fd, info } = openRegularFile(path);
  try {
    checkDeclaredSize(info.size, options);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  return wholeFileStream(fd, info.size);
}

/**
 * The check of a destination that identity() made, for the placeholder
 * write of the same URL that follows at once: each check costs the
 * server's thread a failed path lookup or two, for every job.
 */
const checked = new WeakMap<URL, { path: string; info?: Deno.FileInfo }>();

/**
 * The source file localSource() checked, which a worker will read: the
 * in-place check compares that very file with the destination.
 */
const checkedSources = new WeakMap<URL, LocalSource>();

/**
 * The file transport, confined to the setup's `roots`.
 *
 * @example
 * ```ts
 * const transport = fileTransport({ roots: await FileRoots.resolve(["/srv/img"]) });
 * ```
 */
export const fileTransport = ({ roots }: TransportSetup): Transport => ({
  read(url, options) {
    return Promise.try(() => openSource(roots.source(pathOf(url, "source")), options));
  },

  async write(url, bytes, options) {
    const { path, info } = checked.get(url) ?? checkedDestination(roots, url);
    checked.delete(url);
    const temp = tempPathFor(path, options.job);
    const kept = options.job?.stage === "placeholder" && info?.isFile
      ? beside(path, keptName(options.job.id))
      : undefined;
    // Whatever we create must itself lie under a root, not just the file it is for.
    if (!roots.roots.some((root) => within(dirname(temp), root))) {
      throw new ImgserveError("FILE_OUTSIDE_ROOT", `${temp} is outside the folders this server may use`);
    }
    // In place unless big (placeholders are a few KiB): see security/files.ts.
    let fill = () => {
      Deno.mkdirSync(dirname(path), { recursive: true });
      writeNew(temp, bytes);
    };
    if (bytes.byteLength > SYNC_WRITE_BYTES) {
      // Written on a blocking thread first; `fill` raises how that went, so one place cleans up.
      const failure = await writeNewOffThread(path, temp, bytes);
      fill = () => {
        if (failure) throw failure;
      };
    }
    return { kept: replaceThroughTemp(path, temp, fill, kept) };
  },

  settle(url, job, outcome) {
    return Promise.try(() => {
      const path = destinationPath(roots, url);
      const kept = beside(path, keptName(job));
      if (outcome === "done") removeIfThere(kept);
      else Deno.renameSync(kept, path);
    });
  },

  remove(url) {
    return Promise.try(() => removeIfThere(destinationPath(roots, url)));
  },

  cleanUp(url, job) {
    return Promise.try(() => {
      const folder = dirname(destinationPath(roots, url));
      for (const name of tempNamesOf(job)) removeIfThere(`${folder}/${name}`);
    });
  },

  identity(url, role) {
    const source = role === "source" ? checkedSources.get(url) : undefined;
    if (source) return fileKey(source);
    let path: string, info: Deno.FileInfo | undefined;
    if (role === "destination") {
      ({ path, info } = checkedDestination(roots, url));
      checked.set(url, { path, info });
    } else {
      path = roots.source(pathOf(url, role));
      try {
        info = Deno.statSync(path);
      } catch {
        // compared by path
      }
    }
    return info ? fileKey(info) : `file:${path}`;
  },

  localDestination(url, job) {
    const path = destinationPath(roots, url);
    return { path, temp: tempPathFor(path, job) };
  },

  localSource(url, options) {
    const source = checkedSource(roots, url, options);
    checkedSources.set(url, source);
    return source;
  },
});
