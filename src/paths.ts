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
