/**
 * A name says where to look: no file name appears twice across src/,
 * workers/ and protocol/ (mod.ts aside: a folder's public surface), and no
 * declaration is exported under one name from two modules, so nothing is
 * imported under an alias to tell two apart.
 */
import { assertEquals } from "./helpers/assert.ts";

const ROOTS = ["src", "workers", "protocol", "shared"];

/** Names every folder may use for its own public surface. */
const SHARED_FILE_NAMES = new Set(["mod.ts"]);

/** Exported names allowed in several modules. */
const TOLERATED_EXPORTS = new Set<string>();

const DECLARATION =
  /^export\s+(?:declare\s+)?(?:async\s+)?(?:function\*?|const|let|var|class|abstract\s+class|interface|type|enum)\s+([A-Za-z_$][\w$]*)/gm;

function sourceFiles(): string[] {
  const files: string[] = [];
  const walk = (folder: string) => {
    for (const entry of Deno.readDirSync(folder)) {
      const path = `${folder}/${entry.name}`;
      if (entry.isDirectory) walk(path);
      else if (entry.name.endsWith(".ts")) files.push(path);
    }
  };
  for (const root of ROOTS) walk(new URL(`../${root}`, import.meta.url).pathname);
  return files.sort();
}

/** Each key found in more than one file, with those files (relative to the repository). */
function repeated(pairs: [key: string, file: string][]): Record<string, string[]> {
  const seen = new Map<string, string[]>();
  for (const [key, file] of pairs) seen.set(key, [...(seen.get(key) ?? []), file]);
  const base = new URL("..", import.meta.url).pathname;
  return Object.fromEntries(
    [...seen].filter(([, files]) => files.length > 1).map(([key, files]) => [
      key,
      files.map((file) => file.slice(base.length)),
    ]),
  );
}

Deno.test("no file name is used twice across src/, workers/, protocol/ and shared/, mod.ts aside", () => {
  const names = sourceFiles().map((file): [string, string] => [file.slice(file.lastIndexOf("/") + 1), file])
    .filter(([name]) => !SHARED_FILE_NAMES.has(name));
  assertEquals(repeated(names), {});
});

Deno.test("no name is exported by two modules of src/, workers/, protocol/ and shared/", () => {
  const exports = sourceFiles().flatMap((file) =>
    [...Deno.readTextFileSync(file).matchAll(DECLARATION)].map((match): [string, string] => [match[1], file])
  ).filter(([name]) => !TOLERATED_EXPORTS.has(name));
  assertEquals(repeated(exports), {});
});
