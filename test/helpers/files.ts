/**
 * What tests look for in a folder.
 *
 * @module
 */

/** The names in a folder, sorted: what a job left there, temporary names included. */
export function namesIn(folder: string): string[] {
  return [...Deno.readDirSync(folder)].map((entry) => entry.name).sort();
}
