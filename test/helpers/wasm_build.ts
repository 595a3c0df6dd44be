/**
 * A committed WebAssembly module against what its build script makes now:
 * a binary nobody can remake would be code nobody can review or patch.
 *
 * @module
 */
import { assertEquals } from "./assert.ts";
import { tempDir } from "./server.ts";

const CODECS = new URL("../../workers/codecs/", import.meta.url).pathname;

async function sha256(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Runs `workers/codecs/<script>` with `args` and the output's path last, and
 * asserts that it made `workers/codecs/<module>` byte for byte.
 *
 * @example
 * ```ts
 * await assertBuildsCommitted("build_resample.sh", [], "resample.wasm");
 * ```
 */
export async function assertBuildsCommitted(script: string, args: string[], module: string): Promise<void> {
  await using dir = await tempDir();
  const out = `${dir.path}/${module}`;
  const { code, stderr } = await new Deno.Command("sh", {
    args: [`${CODECS}/${script}`, ...args, out],
    stdout: "null",
    stderr: "piped",
  }).output();
  assertEquals(code, 0, new TextDecoder().decode(stderr));
  const built = await Deno.readFile(out);
  const committed = await Deno.readFile(`${CODECS}/${module}`);
  assertEquals(await sha256(built), await sha256(committed));
}
