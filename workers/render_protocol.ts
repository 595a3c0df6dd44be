/**
 * What a worker and its render process (`render_process.ts`) say to each
 * other. Apart from that module, so a worker does not load the render
 * process's code, and with it a copy of the bundled fonts.
 *
 * @module
 */
import type { Plan } from "../src/job/plan.ts";
import type { StageTimes } from "./ops/timer.ts";

/** The hidden command that makes a compiled imgserve executable a render process. */
export const RENDER_COMMAND = "__render";

/** What the render process is sent. */
export type RenderRequest = { type: "init"; fontDirs: string[] } | { type: "render"; plan: Plan };

/**
 * What it answers; after a fatal failure it exits, its WASM memory being
 * suspect. `memory`: the bytes of its WebAssembly memories after the render.
 */
export type RenderReply =
  | { type: "ready"; memory?: number }
  | { type: "done"; times: StageTimes; memory?: number }
  | { type: "failed"; message: string; fatal: boolean; memory?: number };
