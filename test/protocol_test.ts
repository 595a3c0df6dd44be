/**
 * protocol/ is the seam between the server and its workers: both import it,
 * it imports neither, and what it declares is declared nowhere else.
 */
import { assertEquals } from "./helpers/assert.ts";

const ROOT = new URL("../", import.meta.url);

async function sources(folder: string): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  const walk = async (dir: URL, name: string) => {
    for await (const entry of Deno.readDir(dir)) {
      if (entry.isDirectory) await walk(new URL(`${entry.name}/`, dir), `${name}${entry.name}/`);
      else if (entry.name.endsWith(".ts")) {
        found.set(`${name}${entry.name}`, await Deno.readTextFile(new URL(entry.name, dir)));
      }
    }
  };
  await walk(new URL(`${folder}/`, ROOT), `${folder}/`);
  return found;
}

/** Every module a file names: static imports, re-exports and dynamic imports. */
function specifiers(text: string): string[] {
  const from = [...text.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s+"([^"]+)"/gms)].map((m) => m[1]);
  const bare = [...text.matchAll(/^\s*import\s+"([^"]+)"/gm)].map((m) => m[1]);
  const dynamic = [...text.matchAll(/\bimport\(\s*"([^"]+)"/g)].map((m) => m[1]);
  return [...from, ...bare, ...dynamic];
}

Deno.test("protocol/ imports nothing from src/ or workers/, only its own modules", async () => {
  const files = await sources("protocol");
  const outside: string[] = [];
  for (const [name, text] of files) {
    for (const specifier of specifiers(text)) {
      if (!/^\.\/[a-z_]+\.ts$/.test(specifier)) outside.push(`${name}: ${specifier}`);
    }
  }
  assertEquals(outside, []);
  assertEquals(files.size > 0, true);
});

Deno.test("what protocol/ declares is declared nowhere in src/ or workers/", async () => {
  const exported = (text: string) =>
    [...text.matchAll(/^export\s+(?:type|interface|function|const|class)\s+([A-Za-z_]\w*)/gm)].map((m) => m[1]);
  const shared = new Set([...(await sources("protocol")).values()].flatMap(exported));
  const twice: string[] = [];
  for (const folder of ["src", "workers"]) {
    for (const [name, text] of await sources(folder)) {
      for (const symbol of exported(text)) if (shared.has(symbol)) twice.push(`${name}: ${symbol}`);
      for (const m of text.matchAll(/^export\s*(?:type\s*)?\{([^}]*)\}\s*from/gm)) {
        for (const symbol of m[1].split(",").map((s) => s.replace(/^\s*type\s+/, "").trim())) {
          if (shared.has(symbol)) twice.push(`${name}: re-exports ${symbol}`);
        }
      }
    }
  }
  assertEquals(twice, []);
});

/** Where each relative specifier of each file under `folder` leads, as a path from the repository's root. */
async function importsOf(folder: string): Promise<{ file: string; target: string }[]> {
  const found: { file: string; target: string }[] = [];
  for (const [file, text] of await sources(folder)) {
    for (const specifier of specifiers(text)) {
      if (!specifier.startsWith(".")) continue;
      const target = new URL(specifier, new URL(file, ROOT)).href.slice(ROOT.href.length);
      found.push({ file, target });
    }
  }
  return found;
}

/**
 * The program's entry is the one crossing: a compiled executable started as
 * a render process runs the worker side's render loop (see src/main.ts).
 */
const ENTRY = { file: "src/main.ts", target: "workers/render_process.ts" };

Deno.test("src/ imports nothing from workers/, and workers/ nothing from src/: they meet in protocol/ and shared/", async () => {
  const crossing: string[] = [];
  for (const [side, other] of [["src", "workers"], ["workers", "src"]]) {
    for (const { file, target } of await importsOf(side)) {
      if (file === ENTRY.file && target === ENTRY.target) continue;
      if (target.startsWith(`${other}/`)) crossing.push(`${file} -> ${target}`);
    }
  }
  assertEquals(crossing, []);
});

Deno.test("shared/ imports only itself and protocol/", async () => {
  const outside = (await importsOf("shared"))
    .filter(({ target }) => !/^(shared|protocol)\//.test(target))
    .map(({ file, target }) => `${file} -> ${target}`);
  assertEquals(outside, []);
});
