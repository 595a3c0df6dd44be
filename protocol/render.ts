/**
 * What a codec worker (workers/renderer.ts) and its render process (workers/render_process.ts) say to each
 * other. Apart from that module, so a worker does not load the render
 * process's code, and with it a copy of the bundled fonts.
 *
 * @module
 */
import type { Plan } from "./plan.ts";
import type { StageTimes } from "./work.ts";

/** The hidden command that makes a compiled imgserve executable a render process. */
export const RENDER_COMMAND = "__render";

/**
 * What the render process is sent. `renderOutputs` draws one SVG at each
 * plan's size, answered by one `output` or `outputFailed` per plan, in
 * order, then `done` (or `failed` for the whole SVG).
 */
export type RenderRequest =
  | { type: "init"; fontDirs: string[] }
  | { type: "renderOutputs"; plans: Plan[] };

/**
 * What it answers; after a fatal failure it exits, its WASM memory being
 * suspect. `memory`: the bytes of its WebAssembly memories after the render.
 */
export type RenderReply =
  | { type: "ready"; memory?: number }
  | { type: "done"; memory?: number }
  | { type: "failed"; message: string; fatal: boolean; memory?: number }
  /** One output of `renderOutputs`, its encoded bytes in the body. */
  | { type: "output"; index: number; times: StageTimes }
  /** One output of `renderOutputs` failed alone; the process is sound. */
  | { type: "outputFailed"; index: number; message: string };
