/**
 * A worker's own render process (`render_process.ts`), started on the
 * first SVG and kept for the next ones. The pool is told its pid, so a
 * render that overruns is ended with SIGKILL together with the worker.
 *
 * @module
 */
import type { Plan } from "../protocol/plan.ts";
import { FrameReader, writeFrame } from "./frames.ts";
import { RENDER_COMMAND, type RenderReply, type RenderRequest } from "../protocol/render.ts";
import type { StageTimes } from "../protocol/work.ts";

/** Largest encoded result taken back from the render process. */
const MAX_RESULT = 2 * 1024 * 1024 * 1024 - 1;

/**
 * How to start a render process: a compiled imgserve runs itself with the
 * hidden command; otherwise Deno runs the module with read access only
 * (fonts, WASM files): no network, no writes, no subprocesses.
 */
function renderCommand(): Deno.CommandOptions & { command: string } {
  if (Deno.build.standalone) return { command: Deno.execPath(), args: [RENDER_COMMAND] };
  return {
    command: Deno.execPath(),
    args: [
      "run",
      "--quiet",
      "--no-prompt",
      "--cached-only",
      "--allow-read",
      "--config",
      new URL("../deno.json", import.meta.url).pathname,
      new URL("./render_process.ts", import.meta.url).pathname,
    ],
  };
}

interface Running {
  child: Deno.ChildProcess;
  frames: FrameReader<RenderReply>;
  writer: WritableStreamDefaultWriter<Uint8Array>;
  ready: Promise<void>;
}

/** One render process, started when first needed. */
export class Renderer {
  #fontDirs: string[];
  #onPid: (pid: number, alive: boolean) => void;
  #running?: Running;
  /** The running process's WebAssembly memory in bytes, as it last said; 0 when none runs. */
  memory = 0;

  /** `onPid` hears of each process started, and again once it is gone. */
  constructor(fontDirs: string[], onPid: (pid: number, alive: boolean) => void) {
    this.#fontDirs = fontDirs;
    this.#onPid = onPid;
  }

  /** Starts the process now, so the first SVG does not wait for it. */
  warm(): Promise<void> {
    return this.#start().ready;
  }

  /**
   * Draws one SVG at each plan's size in the render process (see
   * `renderOutputs` there); `onOutput` hears of each output as it arrives,
   * its encoded bytes or the sentence of its own failure. Throws with a
   * plain sentence when the whole SVG fails.
   */
  async renderOutputs(
    plans: Plan[],
    svg: Uint8Array,
    started: () => void,
    onOutput: (index: number, made: { bytes: Uint8Array; times: StageTimes } | { message: string }) => void,
  ): Promise<void> {
    const running = this.#start();
    let failure: Extract<RenderReply, { type: "failed" }> | undefined;
    try {
      await running.ready;
      started();
      await writeFrame<RenderRequest>(running.writer, { type: "renderOutputs", plans }, svg);
      // One answer per plan, then the end: a process saying more is not trusted.
      for (let index = 0; index <= plans.length; index++) {
        const reply = await running.frames.next();
        const head = reply?.head;
        if (index < plans.length && head?.type === "output" && head.index === index) {
          onOutput(index, { bytes: reply!.body, times: head.times });
        } else if (index < plans.length && head?.type === "outputFailed" && head.index === index) {
          onOutput(index, { message: head.message });
        } else if (head?.type === "done" && index === plans.length) {
          this.memory = head.memory ?? this.memory;
          return;
        } else if (head?.type === "failed") {
          this.memory = head.memory ?? this.memory;
          failure = head;
          break;
        } else throw new Error("the SVG renderer stopped unexpectedly");
      }
    } catch (err) {
      this.#stop(running);
      throw err;
    }
    // An SVG refused cleanly leaves the process sound, for the next one.
    if (!failure || failure.fatal) this.#stop(running);
    throw new Error(failure?.message ?? "the SVG renderer stopped unexpectedly");
  }

  #start(): Running {
    if (this.#running) return this.#running;
    const { command, ...options } = renderCommand();
    const child = new Deno.Command(command, { ...options, stdin: "piped", stdout: "piped", stderr: "null" }).spawn();
    this.#onPid(child.pid, true);
    const frames = new FrameReader<RenderReply>(child.stdout, MAX_RESULT);
    const writer = child.stdin.getWriter();
    const ready = (async () => {
      await writeFrame<RenderRequest>(writer, { type: "init", fontDirs: this.#fontDirs });
      const reply = await frames.next();
      if (reply?.head.type !== "ready") throw new Error("the SVG renderer did not start");
      this.memory = reply.head.memory ?? 0;
    })();
    ready.catch(() => {}); // awaited by renderOutputs(); a failed start is reported there
    const running = { child, frames, writer, ready };
    this.#running = running;
    child.status.then(() => {
      if (this.#running === running) {
        this.#running = undefined;
        this.memory = 0;
      }
      this.#onPid(child.pid, false);
    });
    return running;
  }

  #stop(running: Running): void {
    if (this.#running === running) this.#running = undefined;
    try {
      running.child.kill("SIGKILL");
    } catch {
      // already gone
    }
    running.writer.close().catch(() => {});
    running.frames.cancel();
  }
}
