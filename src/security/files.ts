/**
 * Local file access: only under the `--file-root` folders, and none at all
 * without one. Paths are checked after percent-decoding, `..` resolution
 * and symlink resolution, so no spelling of a path escapes a root.
 *
 * The checks use Deno's synchronous calls on purpose: each async file-system
 * call hops to a blocking thread and costs about 40 us of CPU against 3-15 us
 * for the same lookup done in place, and they run for every job.
 *
 * @module
 */
import { ImgserveError } from "../../protocol/error_codes.ts";

/** Lexically normalizes an absolute path: no `.`, `..` or empty segments. */
export function normalizePath(path: string): string {
  const out: string[] = [];
  for (const segment of path.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") out.pop();
    else out.push(segment);
  }
  return "/" + out.join("/");
}

/** Whether `path` is `root` or lies under it (lexically). */
export function within(path: string, root: string): boolean {
  return root === "/" || path === root || path.startsWith(root + "/");
}

/** The allowed roots, resolved to real paths once at start-up. */
export class FileRoots {
  readonly roots: string[];

  private constructor(roots: string[]) {
    this.roots = roots;
  }

  /** Resolves each root (which must exist) to its real path. */
  static async resolve(roots: string[]): Promise<FileRoots> {
    return new FileRoots(await Promise.all(roots.map((r) => Deno.realPath(r))));
  }

  #refuse(path: string): never {
    if (this.roots.length === 0) {
      throw new ImgserveError(
        "FILE_ACCESS_DISABLED",
        "file:// URLs are disabled; the operator can allow folders with --file-root",
      );
    }
    throw new ImgserveError("FILE_OUTSIDE_ROOT", `${path} is outside the folders this server may use`);
  }

  /** Checks a source path; returns its real path (symlinks followed). */
  source(path: string): string {
    if (this.roots.length === 0) this.#refuse(path);
    const lexical = normalizePath(path);
    if (!this.roots.some((root) => within(lexical, root))) this.#refuse(path);
    let real: string;
    try {
      real = Deno.realPathSync(lexical);
    } catch {
      return lexical; // does not exist: the read reports "not found"
    }
    if (!this.roots.some((root) => within(real, root))) this.#refuse(path);
    return real;
  }

  /**
   * Checks a destination path: the deepest folder that exists must really
   * lie under a root, and the name itself must not be a symlink.
   */
  destination(path: string): string {
    return this.destinationEntry(path).path;
  }

  /**
   * {@linkcode FileRoots.destination}, also telling whether something is
   * at the path already (learnt on the way, at no extra cost).
   */
  destinationEntry(path: string): { path: string; exists: boolean } {
    if (this.roots.length === 0) this.#refuse(path);
    const lexical = normalizePath(path);
    if (!this.roots.some((root) => within(lexical, root))) this.#refuse(path);
    let existing = lexical;
    let rest = "";
    while (true) {
      try {
        const real = Deno.realPathSync(existing);
        const target = normalizePath(real + rest);
        if (!this.roots.some((root) => within(target, root))) this.#refuse(path);
        return { path: target, exists: rest === "" };
      } catch (err) {
        if (err instanceof ImgserveError) throw err;
        const at = existing.lastIndexOf("/");
        if (at <= 0) this.#refuse(path);
        rest = existing.slice(at) + rest;
        existing = existing.slice(0, at);
      }
    }
  }
}
