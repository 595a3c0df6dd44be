/**
 * Helpers for the `/`-separated paths the server works with.
 *
 * @module
 */

/**
 * The folder part of a path: `"/"` for a file in the root, `"."` for a bare
 * name.
 *
 * @example
 * ```ts
 * dirname("/srv/img/a.png"); // "/srv/img"
 * dirname("/a.png"); // "/"
 * ```
 */
export function dirname(path: string): string {
  const at = path.lastIndexOf("/");
  if (at < 0) return ".";
  return at === 0 ? "/" : path.slice(0, at);
}

/**
 * The path of `name` in the folder that holds `path`; a bare `path` gives
 * the bare `name` (an FTP path relative to the session's folder).
 *
 * @example
 * ```ts
 * beside("/srv/img/a.png", ".imgserve-1.kept"); // "/srv/img/.imgserve-1.kept"
 * beside("a.png", ".imgserve-1.kept"); // ".imgserve-1.kept"
 * ```
 */
export function beside(path: string, name: string): string {
  return path.slice(0, path.lastIndexOf("/") + 1) + name;
}
