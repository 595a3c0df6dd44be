/**
 * The flags `--help` lists first: where the server listens, its workers,
 * files and fonts, and the limits that protect it.
 *
 * @module
 */
import type { Flag } from "./flag.ts";
import { WEBP_MAX_SIDE } from "../job/planner.ts";

/**
 * The most `--max-result-pixels` may allow: every encoder holds the whole
 * result in its WebAssembly memory, and libaom needs about 38 bytes a
 * pixel, so beyond this an AVIF result would pass WebAssembly's 4 GiB.
 */
export const WORKER_RESULT_PIXELS = 100_000_000;

/**
 * The default `--max-result-pixels`: 4K (3840x2160 and 4096x2160) and a
 * 16383x610 banner. Every result within it and `--max-side`, in every
 * format, fits the default `--worker-memory` with room for the source's
 * decode (see docs/memory.md); the budget is derived from it, so the
 * defaults never refuse with 508 what they allow with 503/507.
 */
export const DEFAULT_RESULT_PIXELS = 10_000_000;

/** The system font folders searched for SVG text. */
export const SYSTEM_FONT_DIRS = ["/usr/share/fonts", "/usr/local/share/fonts"];

const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

/** The "Flags" section of the usage text, in its order. */
export const SERVER_FLAGS = [
  {
    name: "host",
    to: "host",
    section: "flags",
    kind: "string",
    arg: "IP",
    singleDash: true,
    default: "0.0.0.0",
    help: "address to listen on (default {default})",
    check: (host, source) =>
      /^[\d.]+$/.test(host) && !IPV4.test(host)
        ? `${source} ${host} is not an IPv4 address; give one such as 127.0.0.1 or 0.0.0.0`
        : undefined,
  },
  {
    name: "port",
    to: "port",
    section: "flags",
    kind: "int",
    arg: "N",
    singleDash: true,
    default: 8602,
    min: 0,
    help: "port to listen on (default {default})",
    check: (port, source) => port > 65535 ? `${source} must be at most 65535, not ${port}` : undefined,
  },
  {
    name: "workers",
    to: "workers",
    section: "flags",
    kind: "int",
    arg: "N",
    default: (c) => c.cores,
    help: "image workers (default: number of CPU cores)",
  },
  {
    name: "worker-memory",
    to: "workerMemory",
    section: "flags",
    kind: "int",
    arg: "MiB",
    default: 512,
    min: 64,
    scale: 1024 * 1024,
    help: "WebAssembly memory plus kept buffers one worker may hold; jobs needing more get 508 (default {default})",
  },
  {
    name: "font-dir",
    section: "flags",
    kind: "list",
    separator: ":",
    arg: "DIR",
    help: "extra folder of fonts for SVG text (repeatable)",
  },
  {
    name: "system-font-dir",
    section: "flags",
    kind: "list",
    separator: ":",
    arg: "DIR",
    default: SYSTEM_FONT_DIRS,
    help: 'replaces the system font folders (repeatable; "" for none)',
  },
  {
    name: "ca-file",
    to: "caFile",
    section: "flags",
    kind: "string",
    arg: "FILE",
    help: "extra trusted CA certificates (PEM) for HTTPS and FTPS",
  },
  {
    name: "cmyk-profile",
    to: "cmykProfile",
    section: "flags",
    kind: "string",
    arg: "FILE",
    help: 'CMYK ICC profile for CMYK JPEGs that carry none, or "none"\n' +
      "(default: Ghostscript's default_cmyk.icc if installed)",
  },
  {
    name: "pid-file",
    to: "pidFile",
    section: "flags",
    kind: "string",
    arg: "FILE",
    default: (c) => c.stateDir ? `${c.stateDir}/imgserve.pid` : "/var/run/imgserve.pid",
    help: "pid file (default /var/run/imgserve.pid as root,\nelse ~/.imgserve/imgserve.pid)",
  },
  {
    name: "log-file",
    to: "logFile",
    section: "flags",
    kind: "string",
    arg: "FILE",
    default: (c) => c.stateDir ? `${c.stateDir}/imgserve.log` : "/var/log/imgserve/imgserve.log",
    help: "log file (default /var/log/imgserve/imgserve.log as\nroot, else ~/.imgserve/imgserve.log)",
  },
  {
    name: "log-format",
    to: "logFormat",
    section: "flags",
    kind: "string",
    arg: "text|json",
    default: "text",
    choices: ["text", "json"],
    help: "log lines as plain text (default) or one JSON object each",
  },
  {
    name: "max-source-bytes",
    to: "limits.maxSourceBytes",
    section: "flags",
    kind: "int",
    arg: "N",
    default: 50 * 1024 * 1024,
    help: "largest source download (default {default})",
  },
  {
    name: "max-source-pixels",
    to: "limits.maxSourcePixels",
    section: "flags",
    kind: "int",
    arg: "N",
    default: 40_000_000,
    help: "largest source in pixels (default {default})",
  },
  {
    name: "max-frames",
    to: "limits.maxFrames",
    section: "flags",
    kind: "int",
    arg: "N",
    default: 1000,
    help: "most frames an animated GIF or WebP may have (default {default})",
  },
  {
    name: "max-animation-pixels",
    to: "limits.maxAnimationPixels",
    section: "flags",
    kind: "int",
    arg: "N",
    default: 1_000_000_000,
    help: "most pixels an animation's frames may have together,\nsource or result (default {default})",
  },
  {
    name: "max-side",
    to: "limits.maxSide",
    section: "flags",
    kind: "int",
    arg: "N",
    default: WEBP_MAX_SIDE,
    help: "largest result width or height (default {default})",
  },
  {
    name: "max-result-pixels",
    to: "limits.maxResultPixels",
    section: "flags",
    kind: "int",
    arg: "N",
    default: DEFAULT_RESULT_PIXELS,
    help: `largest result, width x height, at most ${WORKER_RESULT_PIXELS} (default {default})`,
    check: (n) =>
      n > WORKER_RESULT_PIXELS
        ? `--max-result-pixels can be at most ${WORKER_RESULT_PIXELS}, what a worker can allocate`
        : undefined,
  },
  {
    name: "max-body-bytes",
    to: "limits.maxBodyBytes",
    section: "flags",
    kind: "int",
    arg: "N",
    default: 64 * 1024,
    help: "largest request body (default {default})",
  },
  {
    name: "max-queue",
    to: "limits.maxQueue",
    section: "flags",
    kind: "int",
    arg: "N",
    default: (c) => (c.values.workers as number) * 4,
    help: "unfinished jobs before new ones get 503 (default 4 per worker)",
  },
  {
    name: "max-svg-bytes",
    to: "limits.maxSvgBytes",
    section: "flags",
    kind: "int",
    arg: "N",
    default: 10 * 1024 * 1024,
    help: "largest SVG source (default {default})",
  },
  {
    name: "transfer-timeout-ms",
    to: "limits.transferTimeoutMs",
    section: "flags",
    kind: "int",
    arg: "N",
    default: 30_000,
    help: "connect, reply and idle-data timeout (default {default})",
  },
  {
    name: "task-timeout-ms",
    to: "limits.taskTimeoutMs",
    section: "flags",
    kind: "int",
    arg: "N",
    default: 120_000,
    help: "longest a job may run in a worker (default {default})",
  },
  {
    name: "render-timeout-ms",
    to: "limits.renderTimeoutMs",
    section: "flags",
    kind: "int",
    arg: "N",
    default: 30_000,
    help: "longest an SVG may take to render (default {default})",
  },
  {
    name: "source-timeout-ms",
    to: "limits.sourceTimeoutMs",
    section: "flags",
    kind: "int",
    arg: "N",
    default: 120_000,
    help: "longest a whole source download may take (default {default})",
  },
] as const satisfies readonly Flag[];
