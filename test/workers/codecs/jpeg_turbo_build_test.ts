/**
 * The committed libjpeg-turbo WebAssembly module is what its script builds
 * from Debian's libjpeg-turbo 2.1.5 source (test/setup.sh fetches it and
 * installs emscripten): a binary nobody can remake would be a codec nobody
 * can review or patch.
 */
import { assertEquals } from "../../helpers/assert.ts";
import type { Requirement } from "../../helpers/requirements.ts";
import { skipped } from "../../helpers/requirements.ts";
import { tempDir } from "../../helpers/server.ts";

const ROOT = new URL("../../../", import.meta.url).pathname;
/** Where test/setup.sh unpacks `apt-get source libjpeg-turbo=1:2.1.5-2`. */
const SOURCE = "/opt/imgserve-test/src/libjpeg-turbo-2.1.5";

/** emscripten, cmake and the source. */
const WASM_BUILD: Requirement = {
  name: "wasm-build",
  missing() {
    for (const path of ["/usr/bin/emcc", "/usr/bin/cmake", `${SOURCE}/jdhuff.c`]) {
      try {
        Deno.statSync(path);
      } catch {
        return `${path} is missing: test/setup.sh installs emscripten and cmake and fetches libjpeg-turbo's source`;
      }
    }
    return undefined;
  },
};

async function sha256(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

Deno.test({
  name: "workers/codecs/jpeg_turbo.wasm is byte for byte what build_jpeg_turbo.sh makes from the source",
  ignore: skipped(WASM_BUILD),
  fn: async () => {
    await using dir = await tempDir();
    const out = `${dir.path}/jpeg_turbo.wasm`;
    const { code, stderr } = await new Deno.Command("sh", {
      args: [`${ROOT}/workers/codecs/build_jpeg_turbo.sh`, SOURCE, out],
      stdout: "null",
      stderr: "piped",
    }).output();
    assertEquals(code, 0, new TextDecoder().decode(stderr));
    const built = await Deno.readFile(out);
    const committed = await Deno.readFile(`${ROOT}/workers/codecs/jpeg_turbo.wasm`);
    assertEquals(await sha256(built), await sha256(committed));
  },
});
