/**
 * The synchronous file steps that both the server's file:// transport and
 * the image workers take on this machine: opening a source without ever
 * blocking, naming what went wrong, and putting a file in place through a
 * temporary one and a rename, so a reader sees the old file or the new
 * one, never half of one.
 *
 * @module
 */
import { ImgserveError } from "../protocol/error_codes.ts";
import { closeSync, constants, fstatSync, openSync, type Stats } from "node:fs";

/** The file system's wordings, each as a plain sentence about the path. */
const FILE_REASONS: [RegExp, string][] = [
  [/file exists.*mkdir|not a directory/i, "a part of its folder path is a file, not a folder"],
  [/permission denied|operation not permitted/i, "permission denied"],
  [/is a directory/i, "it is a folder"],
  [/no space left/i, "the disk is full"],
  [/read-only file system/i, "the file system is read-only"],
  [/disk quota/i, "the disk quota is used up"],
];

/** Why a file step failed, as one sentence without the OS error number or the system call. */
export function fileReason(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const known = FILE_REASONS.find(([pattern]) => pattern.test(message));
  if (known) return known[1];
  return message.replace(/\s*\(os error \d+\)/, "").replace(/: [a-z]+ '.*'$/, "");
}

/** The error for a destination file that could not be written. */
export function notWritable(path: string, err: unknown): ImgserveError {
  return new ImgserveError("DESTINATION_NOT_WRITABLE", `cannot write ${path}: ${fileReason(err)}`);
}

/** The error for a source file that could not be read: not found, or refused. */
export function readError(path: string, err: unknown): ImgserveError {
  if (err instanceof ImgserveError) return err;
  if (err instanceof Deno.errors.NotFound || (err as { code?: string }).code === "ENOENT") {
    return new ImgserveError("SOURCE_NOT_FOUND", `no file at ${path}`);
  }
  return new ImgserveError("SOURCE_REFUSED", `cannot read ${path}: ${fileReason(err)}`);
}

/** The error for a source that is a folder, FIFO, socket or device. */
export function notRegular(
  path: string,
  info: { isFIFO(): boolean; isSocket(): boolean } | Deno.FileInfo,
): ImgserveError {
  const what = "isFile" in info
    ? info.isDirectory ? "a folder" : info.isFifo ? "a FIFO" : info.isSocket ? "a socket" : "a device or special file"
    : info.isFIFO()
    ? "a FIFO"
    : info.isSocket()
    ? "a socket"
    : "a folder, device or special file";
  return new ImgserveError("SOURCE_NOT_REGULAR_FILE", `the source ${path} is ${what}, not a regular file`);
}

/**
 * Opens a source file without ever blocking this thread: `open()` of a
 * FIFO waits for a writer, and of some devices for the device, so the path
 * is checked first, opened with O_NONBLOCK, and the handle itself checked
 * again (the path may have been swapped meanwhile). Deno.open has no flag
 * for it; node:fs passes the flag through.
 *
 * @example
 * ```ts
 * const { fd, info } = openRegularFile("/srv/img/a.png");
 * closeSync(fd);
 * ```
 */
export function openRegularFile(path: string): { fd: number; info: Stats } {
  let fd: number;
  try {
    const before = Deno.statSync(path);
    if (!before.isFile) throw notRegular(path, before);
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    throw readError(path, err);
  }
  try {
    const info = fstatSync(fd);
    if (!info.isFile()) throw notRegular(path, info);
    return { fd, info };
  } catch (err) {
    closeSync(fd);
    throw readError(path, err);
  }
}

/** Creates `path` afresh with `bytes`: a stale file of that name (a crashed attempt's) is replaced, never followed. */
export function writeNew(path: string, bytes: Uint8Array): void {
  try {
    Deno.writeFileSync(path, bytes, { mode: 0o644, createNew: true });
  } catch (err) {
    if (!(err instanceof Deno.errors.AlreadyExists)) throw err;
    Deno.removeSync(path);
    Deno.writeFileSync(path, bytes, { mode: 0o644, createNew: true });
  }
}

/** Removes a file; one that is not there is no error. */
export function removeIfThere(path: string): void {
  try {
    Deno.removeSync(path);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
}

/**
 * Puts a file at `path` through `temp`: `fill` creates `temp` (with
 * {@linkcode writeNew}, say), the file now at `path` is kept under `kept`
 * when one is given, and `temp` is renamed over `path`. On any failure the
 * temporary file is removed, the kept file put back, and
 * DESTINATION_NOT_WRITABLE thrown. Returns whether an earlier file was kept.
 *
 * @example
 * ```ts
 * replaceThroughTemp("/srv/out/a.png", "/srv/out/.imgserve-x.tmp", () => writeNew("/srv/out/.imgserve-x.tmp", bytes));
 * ```
 */
export function replaceThroughTemp(path: string, temp: string, fill: () => void, kept?: string): boolean {
  let how: "linked" | "moved" | undefined;
  try {
    fill();
    if (kept) how = keepExisting(path, kept);
    Deno.renameSync(temp, path);
  } catch (err) {
    try {
      Deno.removeSync(temp);
    } catch {
      // never created
    }
    if (kept) undoKeep(path, kept, how);
    throw notWritable(path, err);
  }
  return how !== undefined;
}

/**
 * Keeps the file at `path` under `kept` before it is replaced: a second
 * link where the file system allows it (the name never goes missing),
 * else a rename. Returns how, for undoing.
 */
function keepExisting(path: string, kept: string): "linked" | "moved" {
  try {
    try {
      Deno.linkSync(path, kept);
    } catch (err) {
      if (!(err instanceof Deno.errors.AlreadyExists)) throw err;
      Deno.removeSync(kept); // the job's ids are fresh: not ours, whatever it is
      Deno.linkSync(path, kept);
    }
    return "linked";
  } catch {
    Deno.renameSync(path, kept);
    return "moved";
  }
}

function undoKeep(path: string, kept: string, how: "linked" | "moved" | undefined): void {
  try {
    if (how === "linked") Deno.removeSync(kept);
    if (how === "moved") Deno.renameSync(kept, path);
  } catch {
    // best effort: the kept file is still there under its hidden name
  }
}
