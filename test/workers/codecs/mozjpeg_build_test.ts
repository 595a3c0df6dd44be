/**
 * The committed MozJPEG WebAssembly module is what its script builds from
 * MozJPEG 3.2's source as the npm package mozjpeg@8.0.0 carries it
 * (test/setup.sh unpacks it and installs emscripten).
 */
import type { Requirement } from "../../helpers/requirements.ts";
import { skipped } from "../../helpers/requirements.ts";
import { assertBuildsCommitted } from "../../helpers/wasm_build.ts";

/** Where test/setup.sh unpacks the package's vendor/source/mozjpeg.tar.gz. */
const SOURCE = "/opt/imgserve-test/src/mozjpeg";

/** emscripten, make, git and the source. */
const WASM_BUILD: Requirement = {
  name: "wasm-build",
  missing() {
    for (const path of ["/usr/bin/emcc", "/usr/bin/make", "/usr/bin/git", `${SOURCE}/jcdctmgr.c`]) {
      try {
        Deno.statSync(path);
      } catch {
        return `${path} is missing: test/setup.sh installs emscripten and fetches MozJPEG's source`;
      }
    }
    return undefined;
  },
};

Deno.test({
  name: "workers/codecs/mozjpeg.wasm is byte for byte what build_mozjpeg.sh makes from the source",
  ignore: skipped(WASM_BUILD),
  fn: () => assertBuildsCommitted("build_mozjpeg.sh", [SOURCE], "mozjpeg.wasm"),
});
