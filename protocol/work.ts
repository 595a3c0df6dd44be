/**
 * What the pool (src/pool/) and a codec worker (workers/codec.ts) say to
 * each other. Image bytes travel as transferred ArrayBuffers both ways.
 *
 * @module
 */
import type { Plan } from "./plan.ts";
import type { WorkerMemory } from "./memory.ts";

/** Milliseconds spent in each stage of a job (read, decode, resize, encode, write...). */
export type StageTimes = Record<string, number>;

/** A checked local source file, as a worker may read it. */
export interface LocalSource {
  path: string;
  /** Device and inode seen when it was checked: the worker reads that file or none. */
  dev: number;
  ino: number;
  /** Bytes to read: the size it had when checked. */
  size: number;
}

/** Compiled modules of the optional codecs. */
export interface LazyModules {
  webpDec: WebAssembly.Module;
  webpEnc: WebAssembly.Module;
  avifDec: WebAssembly.Module;
  avifEnc: WebAssembly.Module;
  bmp: WebAssembly.Module;
  /** LittleCMS, for embedded ICC profiles and CMYK. */
  lcms: WebAssembly.Module;
}

/**
 * Compiled modules; structured-cloneable, so they are compiled once for all
 * workers: by the first worker, which hands them back with its `ready`.
 */
export interface CodecModules {
  jpegDec: WebAssembly.Module;
  jpegEnc: WebAssembly.Module;
  /** libjpeg-turbo, for JPEG decoding at reduced scale. */
  jpegScaled: WebAssembly.Module;
  png: WebAssembly.Module;
  /** WebP, AVIF, GIF, BMP: instantiated on first use. */
  lazy: LazyModules;
}

/** One output to make, and the checked local path the worker stores it at, if any. */
export interface OutputOrder {
  plan: Plan;
  writeTo?: string;
  /** The job's own temporary name beside `writeTo` (see shared/keep.ts). */
  writeTemp?: string;
}

/** One output made: its bytes (empty once stored at `writeTo`) and the encoded result's size either way. */
export interface OutputMade {
  bytes: ArrayBuffer;
  size: number;
  times: StageTimes;
}

/**
 * One output that failed alone: `code` is an ImgserveError's name; `sound`
 * is false when a codec failed and its memory is suspect.
 */
export interface OutputFailure {
  code: string;
  message: string;
  sound: boolean;
}

/** What became of one output in the worker. */
export type MadeOutput = ({ ok: true } & OutputMade) | ({ ok: false } & OutputFailure);

/** Messages the pool sends. */
export type WorkRequest =
  | {
    type: "init";
    fontDirs: string[];
    /** The compiled codecs, once a worker has compiled them; absent, this worker compiles them itself. */
    modules?: CodecModules;
    /** Start a render process at once rather than on the first SVG. */
    warmRenderer: boolean;
    /** An Int32Array's buffer; the pool sets its first element when it ends this worker. */
    stop: SharedArrayBuffer;
    /** The standard CMYK profile for CMYK JPEGs that carry none. */
    cmykProfile?: Uint8Array;
    /** Bytes of WebAssembly memory plus kept buffers this worker may hold between jobs (`--worker-memory`). */
    memoryBudget?: number;
  }
  | RunRequest;

/**
 * Runs one task: a source, decoded once, and the outputs to make from it
 * (one or more; all share `op` and `source`). Each output is answered by an
 * `output` or `outputFailed` reply, in order, then `done`; a failure of
 * the whole source by `unreadable` or `failed` instead.
 */
export interface RunRequest {
  type: "run";
  id: number;
  /** The source's bytes, or where to read them (a checked local file). */
  bytes?: ArrayBuffer;
  readFrom?: LocalSource;
  outputs: OutputOrder[];
}

/** Messages the worker answers with. */
export type WorkReply =
  /** Its codecs are loaded; `modules`: the codecs it compiled itself, for the workers started after it. */
  | { type: "ready"; modules?: CodecModules }
  /** What this worker holds: sent before "ready" and after each job's reply. */
  | { type: "memory"; memory: WorkerMemory }
  /** This worker's render process started (alive) or ended; the pool kills it with the worker. */
  | { type: "renderer"; pid: number; alive: boolean }
  /** The render process is up and has the job's SVG: its render time starts now. */
  | { type: "rendering"; id: number }
  /** Every output of the task was answered. */
  | { type: "done"; id: number }
  /**
   * `sound`: the failure was in the render process, or imgserve's own
   * checks refused the source (a limit before any codec ran, or damage after
   * a clean decode), so this worker's codecs are fine and it goes on.
   * `code`: that ImgserveError's name (else the job fails 601).
   */
  | { type: "failed"; id: number; message: string; sound: boolean; code?: string }
  /** The local source could not be read (an ImgserveError's name); the codecs are fine. */
  | { type: "unreadable"; id: number; code: string; message: string }
  /** One output of the task: its bytes, or none when it was stored at its `writeTo`. */
  | ({ type: "output"; id: number; index: number } & OutputMade)
  /** One output of the task failed alone; `sound` as for `failed`. */
  | ({ type: "outputFailed"; id: number; index: number } & OutputFailure)
  /** Not run: after a failure this worker runs nothing more. */
  | { type: "returned"; id: number; bytes?: ArrayBuffer };
