/**
 * The SVG render process: a child of the server that renders one SVG at a
 * time, frames in on stdin, frames out on stdout.
 *
 * Renders run here rather than in a worker thread because a thread cannot
 * be stopped: `Worker.terminate()` does not interrupt a resvg render (the
 * thread went on at 100% of a core for minutes after a timeout), while a
 * process is gone the moment it gets SIGKILL. The process loads its codecs
 * and fonts once and serves render after render until its stdin closes.
 *
 * @module
 */
import { initWasm as initResvg } from "@resvg/resvg-wasm";
import { initJpegEncode } from "./ops/jpeg_encode.ts";
import type { Plan } from "../protocol/plan.ts";
import { loadFonts } from "./fonts.ts";
import { compileLazyCodecs, setLazyModules } from "./lazy_codecs.ts";
import { FrameReader, writeFrame } from "./frames.ts";
import { plainFailure } from "./ops/failure.ts";
import { type FontSet, svgText } from "./ops/rasterize.ts";
import { SVG_OUTPUT } from "./pipeline/svg.ts";
import { type OutputImage, runSteps } from "./pipeline/step.ts";
import { StageTimer } from "./ops/timer.ts";
import { trackWasmMemories, wasmMemoryBytes } from "./wasm_memory.ts";
import type { RenderReply, RenderRequest } from "../protocol/render.ts";
import mozjpegWasm from "./codecs/mozjpeg.wasm" with { type: "bytes" };

/** Largest SVG a render request may carry (the server's own limit is lower). */
export const MAX_SVG_FRAME = 256 * 1024 * 1024;

const WARM_UP = new TextEncoder().encode(
  `<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><text y="8" font-size="8">a</text></svg>`,
);
const WARM_UP_PLAN: Plan = {
  op: "rasterize",
  source: { format: "svg", width: 8, height: 8, orientation: 1, hasAlpha: true },
  width: 8,
  height: 8,
  format: "png",
  quality: 85,
  mode: "fit",
  crop: { x: 0, y: 0, width: 8, height: 8 },
};

async function compile(specifier: string): Promise<WebAssembly.Module> {
  return await WebAssembly.compile(await Deno.readFile(new URL(import.meta.resolve(specifier))));
}

/** Serves render requests on stdin until it closes. */
export async function serveRenders(): Promise<void> {
  const frames = new FrameReader<RenderRequest>(Deno.stdin.readable, MAX_SVG_FRAME);
  const out = Deno.stdout.writable.getWriter();
  const init = await frames.next();
  if (init?.head.type !== "init") return;
  const [fonts, resvg, jpegEnc, lazy] = await Promise.all([
    loadFonts(init.head.fontDirs),
    compile("@resvg/resvg-wasm/index_bg.wasm"),
    WebAssembly.compile(mozjpegWasm),
    // WebP and AVIF results are encoded here too; they are instantiated only when a job asks for them.
    compileLazyCodecs(),
  ]);
  setLazyModules(lazy);
  trackWasmMemories();
  initJpegEncode(jpegEnc);
  await initResvg(resvg);
  // The first render in a process is slow (about 300 ms: code tiers up, fonts are parsed); done here, it is not counted
  // against the first job's render time.
  const warmUp: OutputImage = { plan: WARM_UP_PLAN, svg: { text: svgText(WARM_UP, fonts), fonts } };
  await runSteps(SVG_OUTPUT, warmUp, new StageTimer()).catch(() => {});
  await writeFrame<RenderReply>(out, { type: "ready", memory: wasmMemoryBytes() });
  for (let frame = await frames.next(); frame; frame = await frames.next()) {
    if (frame.head.type === "renderOutputs") await renderOutputs(frame.body, frame.head.plans, fonts, out);
  }
}

/** resvg refuses bad SVGs with an error and stays sound; a panic or a memory failure leaves it suspect. */
function isFatal(err: unknown): boolean {
  return err instanceof WebAssembly.RuntimeError || err instanceof RangeError || !(err instanceof Error);
}

/**
 * Draws one SVG at several sizes, each through the steps of SVG_OUTPUT and
 * handed off before the next is drawn. A drawing that fails before any
 * output is made fails the whole SVG (it is the source's fault); later,
 * only that output fails. A fatal failure ends the process.
 */
async function renderOutputs(
  body: Uint8Array,
  plans: Plan[],
  fonts: FontSet,
  out: WritableStreamDefaultWriter<Uint8Array>,
): Promise<void> {
  const text = svgText(body, fonts);
  let made = 0;
  for (const [index, plan] of plans.entries()) {
    const timer = new StageTimer();
    const output: OutputImage = { plan, svg: { text, fonts } };
    try {
      await runSteps(SVG_OUTPUT, output, timer);
    } catch (err) {
      const message = plainFailure(err, "svg", plan.width * plan.height * 4);
      const fatal = isFatal(err);
      const drawn = output.pixels !== undefined;
      if (fatal || (!drawn && made === 0)) {
        await writeFrame<RenderReply>(out, { type: "failed", message, fatal, memory: wasmMemoryBytes() });
        if (fatal) Deno.exit(1);
        return;
      }
      await writeFrame<RenderReply>(out, { type: "outputFailed", index, message });
      continue;
    }
    made++;
    await writeFrame<RenderReply>(out, { type: "output", index, times: timer.times }, new Uint8Array(output.bytes!));
  }
  await writeFrame<RenderReply>(out, { type: "done", memory: wasmMemoryBytes() });
}

if (import.meta.main) await serveRenders();
