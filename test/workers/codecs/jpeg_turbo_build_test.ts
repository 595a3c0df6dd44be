/**
 * The committed libjpeg-turbo WebAssembly module is what its script builds
 * from Debian's libjpeg-turbo 2.1.5 source (test/setup.sh fetches it and
 * installs emscripten): a binary nobody can remake would be a codec nobody
 * can review or patch.
 */
import type { Requirement } from "../../helpers/requirements.ts";
import { skipped } from "../../helpers/requirements.ts";
import { assertBuildsCommitted } from "../../helpers/wasm_build.ts";

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

Deno.test({
  name: "workers/codecs/jpeg_turbo.wasm is byte for byte what build_jpeg_turbo.sh makes from the source",
  ignore: skipped(WASM_BUILD),
  fn: () => assertBuildsCommitted("build_jpeg_turbo.sh", [SOURCE], "jpeg_turbo.wasm"),
});
