/**
 * A job from request to delivered image: read the source's header, plan,
 * place the placeholder, reply; then download the rest, run it in the
 * pool, overwrite the placeholder, record the outcome.
 *
 * @module
 */
import type { Config } from "../config.ts";
import { assertSafeSvg, type ImageHeader, NeedMoreBytes, readHeader } from "../image/header.ts";
import { placeholderFor } from "../image/placeholder.ts";
import type { WorkerPool } from "../pool.ts";
import {
  type AddressGuard,
  concat,
  openGuard,
  readAll,
  type TransferOptions,
  type TransportTable,
} from "../transport/mod.ts";
import { asImgserveError, ImgserveError } from "./errors.ts";
import type { JobRecord, Journal } from "./journal.ts";
import { contentTypeOf, type Plan, planJob } from "./plan.ts";
import type { JobRequest } from "./request.ts";
import { nameParts, parseDestination, substituteTags } from "./template.ts";

/** What the client is told once the placeholder is in place. */
export interface Accepted {
  id: string;
  dstURL: string;
}

/** What a runner needs. */
export interface RunnerDeps {
  config: Config;
  pool: WorkerPool;
  journal: Journal;
  transports: TransportTable;
  guard?: AddressGuard;
  /** Extra trusted roots (PEM) from --ca-file. */
  caCerts: string[];
}

/** Accepts and runs jobs. */
export class JobRunner {
  #deps: RunnerDeps;
  #active = new Set<Promise<void>>();

  constructor(deps: RunnerDeps) {
    this.#deps = deps;
  }

  /** Jobs accepted and not yet finished. */
  get active(): number {
    return this.#active.size;
  }

  /** Resolves when every accepted job has finished. */
  async idle(): Promise<void> {
    while (this.#active.size > 0) await Promise.allSettled([...this.#active]);
  }

  #transfer(signal?: AbortSignal): TransferOptions {
    return {
      signal,
      timeoutMs: this.#deps.config.limits.transferTimeoutMs,
      caCerts: this.#deps.caCerts,
      guard: this.#deps.guard ?? openGuard,
    };
  }

  /**
   * Validates against the source's header, uploads the placeholder and
   * starts the real work; resolves with what the client is told.
   */
  async accept(request: JobRequest): Promise<Accepted> {
    const { limits } = this.#deps.config;
    if (this.#active.size >= limits.maxQueue) {
      throw new ImgserveError("QUEUE_FULL", `the server has ${this.#active.size} unfinished jobs; try again shortly`);
    }
    const { transports } = this.#deps;
    const source = transports.for(request.srcURL);
    transports.for(new URL(request.dstTemplate.replace(/\{\$[^}]*\}/g, "x")));
    const stream = await source.read(request.srcURL, { ...this.#transfer(), maxBytes: limits.maxSourceBytes });
    let prefix: Uint8Array[];
    let plan: Plan;
    let dst: string;
    let dstURL: URL;
    try {
      let header: ImageHeader;
      ({ header, prefix } = await readSourceHeader(stream, limits.maxSourceBytes));
      if (header.width * header.height > limits.maxSourcePixels) {
        throw new ImgserveError(
          "TOO_MANY_PIXELS",
          `the source is ${header.width}x${header.height}, over the limit of ${limits.maxSourcePixels} pixels`,
        );
      }
      if (header.format === "svg") prefix = [await readWholeSvg(stream, prefix, limits.maxSvgBytes)];
      plan = planJob(request, header, limits.maxSide);
      dst = substituteTags(request.dstTemplate, {
        width: plan.width,
        height: plan.height,
        ...nameParts(request.srcURL),
      });
      dstURL = parseDestination(dst);
      const placeholder = await placeholderFor(plan.format, plan.width, plan.height);
      await transports.for(dstURL).write(dstURL, placeholder, this.#writeOptions(plan, request));
    } catch (err) {
      await stream.cancel().catch(() => {});
      throw err;
    }
    const record: JobRecord = {
      id: crypto.randomUUID(),
      state: "queued",
      dstURL: dst,
      width: plan.width,
      height: plan.height,
      acceptedAt: Date.now(),
    };
    await this.#deps.journal.put(record);
    const work = this.#run(record.id, request, plan, dstURL, stream, prefix);
    this.#active.add(work);
    work.finally(() => this.#active.delete(work));
    return { id: record.id, dstURL: dst };
  }

  #writeOptions(plan: Plan, request: JobRequest) {
    return { ...this.#transfer(), contentType: contentTypeOf(plan.format), fieldName: request.args.fieldName };
  }

  async #run(
    id: string,
    request: JobRequest,
    plan: Plan,
    dstURL: URL,
    stream: ReadableStream<Uint8Array>,
    prefix: Uint8Array[],
  ): Promise<void> {
    const { journal, pool, config } = this.#deps;
    try {
      const bytes = await readAll(stream, config.limits.maxSourceBytes, prefix);
      await journal.update(id, { state: "running", startedAt: Date.now() });
      const timeout = plan.op === "rasterize" ? config.limits.renderTimeoutMs : config.limits.taskTimeoutMs;
      const result = await pool.run(plan, bytes, timeout);
      await this.#deps.transports.for(dstURL).write(dstURL, result.bytes, this.#writeOptions(plan, request));
      await journal.update(id, { state: "done", finishedAt: Date.now(), times: result.times });
    } catch (err) {
      const error = asImgserveError(err);
      await journal.update(id, {
        state: "failed",
        finishedAt: Date.now(),
        error: { code: error.code, message: error.message },
      });
    }
  }
}

/** Reads a whole SVG at validation, so its size and safety are known before the reply. */
async function readWholeSvg(
  stream: ReadableStream<Uint8Array>,
  prefix: Uint8Array[],
  maxBytes: number,
): Promise<Uint8Array> {
  let svg: Uint8Array;
  try {
    svg = await readAll(stream, maxBytes, prefix);
  } catch (err) {
    if (err instanceof ImgserveError && err.name === "SOURCE_TOO_LARGE") {
      throw new ImgserveError("SVG_TOO_LARGE", `the SVG is larger than the limit of ${maxBytes} bytes`);
    }
    throw err;
  }
  assertSafeSvg(svg);
  return svg;
}

/**
 * Reads just enough of the source to parse its header; the chunks read are
 * returned so the download can go on from there.
 */
export async function readSourceHeader(
  stream: ReadableStream<Uint8Array>,
  maxBytes: number,
): Promise<{ header: ImageHeader; prefix: Uint8Array[] }> {
  const prefix: Uint8Array[] = [];
  let size = 0;
  const reader = stream.getReader();
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (!done) {
        prefix.push(value);
        size += value.byteLength;
        if (size > maxBytes) {
          throw new ImgserveError("SOURCE_TOO_LARGE", `the source is larger than the limit of ${maxBytes} bytes`);
        }
      }
      try {
        return { header: readHeader(concat(prefix, size), done), prefix };
      } catch (err) {
        if (!(err instanceof NeedMoreBytes)) throw err;
      }
    }
  } finally {
    reader.releaseLock();
  }
}
