/**
 * The committed resampler module is what its script builds from
 * resample.c with emscripten (test/setup.sh installs it).
 */
import type { Requirement } from "../../helpers/requirements.ts";
import { skipped } from "../../helpers/requirements.ts";
import { assertBuildsCommitted } from "../../helpers/wasm_build.ts";

/** emscripten. */
const EMCC: Requirement = {
  name: "emcc",
  missing() {
    try {
      Deno.statSync("/usr/bin/emcc");
      return undefined;
    } catch {
      return "/usr/bin/emcc is missing: test/setup.sh installs emscripten";
    }
  },
};

Deno.test({
  name: "workers/codecs/resample.wasm is byte for byte what build_resample.sh makes from resample.c",
  ignore: skipped(EMCC),
  fn: () => assertBuildsCommitted("build_resample.sh", [], "resample.wasm"),
});
