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
