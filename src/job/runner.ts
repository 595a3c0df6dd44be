/**
 * A job from request to delivered image: read the source's header, plan,
 * place the placeholder, journal the job, reply; then download the rest,
 * run it in the pool, overwrite the placeholder, record the outcome. Jobs
 * whose server died, and jobs waiting for a retry, are picked up again from
 * the journal by whichever server claims them first.
 *
 * @module
 */
import type { Config } from "../config.ts";
import { assertSafeSvg, type ImageHeader, NeedMoreBytes, readHeader } from "../image/header.ts";
import { placeholderFor } from "../image/placeholder.ts";
import { assertRenderCost } from "../image/svg_cost.ts";
import type { Metrics } from "../metrics.ts";
import { JobNotStarted, type WorkerPool, type WorkResult } from "../pool.ts";
import {
  type AddressGuard,
  type LocalSource,
  openGuard,
  readAll,
  type TransferOptions,
  type TransportTable,
  type WriteOptions,
} from "../transport/mod.ts";
import { boundedDownload } from "../transport/deadline.ts";
import { concat } from "../bytes.ts";
import { sendCallback } from "./callback.ts";
import { asImgserveError, type ErrorName, ImgserveError } from "../errors.ts";
import type { JobRecord, Journal } from "./journal.ts";
import {
  cleanUpAfter,
  digestOf,
  type PlaceholderDigest,
  refuseInPlace,
  refusePlaceholder,
  settleKept,
} from "./originals.ts";
import { tempPathFor } from "../transport/keep.ts";
import { contentTypeOf, extensionOf, type Plan, planJob } from "./plan.ts";
import { assertFitsWorker } from "./plan_memory.ts";
import type { JobRequest } from "./request.ts";
import { nameParts, parseDestination, substituteTags, withTagsStoodIn } from "./template.ts";

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
  metrics: Metrics;
  guard?: AddressGuard;
  /** Extra trusted roots (PEM) from --ca-file. */
  caCerts: string[];
  log?: (line: string) => void;
}

/** Callback deliveries tried before giving up. */
const CALLBACK_ATTEMPTS = 5;

/** Accepts and runs jobs. */
export class JobRunner {
  #deps: RunnerDeps;
  /** This server's name in the journal's leases. */
  readonly owner: string = crypto.randomUUID();
  #active = new Map<string, Promise<void>>();
  /** Requests being validated: they hold a queue slot from their first line on. */
  #admitting = 0;
  #stopping = false;
  /** Cuts every transfer short once the grace period is over. */
  #abort = new AbortController();
  #scan?: ReturnType<typeof setInterval>;
  #scanning = false;

  constructor(deps: RunnerDeps) {
    this.#deps = deps;
  }

  /** False once shutdown has begun. */
  get accepting(): boolean {
    return !this.#stopping;
  }

  /** Jobs this server is working on. */
  get active(): number {
    return this.#active.size;
  }

  /** Starts picking up jobs from the journal: at once, then every so often. */
  start(): void {
    const every = Math.max(50, Math.min(1000, this.#deps.config.jobs.leaseMs / 3));
    this.#scan = setInterval(() => this.#pickUp(), every);
    this.#pickUp();
  }

  /**
   * Stops taking work, waits up to `graceMs` for running jobs, and hands
   * the unfinished ones back to the journal for the next server.
   */
  async stop(graceMs: number): Promise<void> {
    this.#stopping = true;
    clearInterval(this.#scan);
    const all = Promise.allSettled([...this.#active.values()]);
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([all, new Promise((r) => timer = setTimeout(r, graceMs))]);
    clearTimeout(timer);
    for (const id of this.#active.keys()) {
      if (id.endsWith(":callback")) continue;
      await this.#deps.journal.update(id, this.owner, { state: "queued", owner: undefined, leaseUntil: undefined });
    }
    this.#abort.abort(new ImgserveError("SHUTTING_DOWN", "the server is shutting down"));
  }

  /** Waits until every job this server is working on has settled. */
  async idle(): Promise<void> {
    while (this.#active.size > 0) await Promise.allSettled([...this.#active.values()]);
  }

  #transfer(maxBytes?: number): TransferOptions {
    return {
      signal: this.#abort.signal,
      timeoutMs: this.#deps.config.limits.transferTimeoutMs,
      caCerts: this.#deps.caCerts,
      guard: this.#deps.guard ?? openGuard,
      maxBytes,
    };
  }

  #writeOptions(plan: Plan, fieldName?: string): WriteOptions {
    return { ...this.#transfer(), contentType: contentTypeOf(plan.format), fieldName };
  }

  /**
   * Validates against the source's header, uploads the placeholder,
   * journals the job and starts the real work; resolves with what the
   * client is told. The queue slot is taken before the first await, so
   * simultaneous requests cannot all pass the check.
   */
  async accept(request: JobRequest): Promise<Accepted> {
    const { limits } = this.#deps.config;
    if (this.#stopping) throw new ImgserveError("SHUTTING_DOWN", "the server is shutting down; try another");
    const unfinished = this.#active.size + this.#admitting;
    if (unfinished >= limits.maxQueue) {
      throw new ImgserveError("QUEUE_FULL", `the server has ${unfinished} unfinished jobs; try again shortly`);
    }
    using _slot = this.#holdSlot();
    return await this.#admit(request);
  }

  /** Counts a job being admitted against --max-queue until disposed, by which time it is in #active. */
  #holdSlot(): Disposable {
    this.#admitting++;
    return { [Symbol.dispose]: () => void this.#admitting-- };
  }

  /** A source download bounded by --transfer-timeout-ms between bytes and --source-timeout-ms in all. */
  #download(srcURL: URL): Promise<ReadableStream<Uint8Array>> {
    const { limits } = this.#deps.config;
    return boundedDownload(
      (signal) => this.#deps.transports.for(srcURL).read(srcURL, { ...this.#transfer(limits.maxSourceBytes), signal }),
      { idleMs: limits.transferTimeoutMs, totalMs: limits.sourceTimeoutMs, signal: this.#abort.signal },
    );
  }

  async #admit(request: JobRequest): Promise<Accepted> {
    const { limits, jobs } = this.#deps.config;
    const { transports } = this.#deps;
    transports.for(request.srcURL);
    transports.for(new URL(withTagsStoodIn(request.dstTemplate)));
    // Checked now, so a callback the server would never be allowed to send is refused with the job.
    if (request.callbackURL) await checkCallbackHost(request.callbackURL, this.#deps.guard ?? openGuard);
    const stream = await this.#download(request.srcURL);
    let prefix: Uint8Array[];
    let plan: Plan;
    let dst: string;
    let local: LocalSource | undefined;
    const id = crypto.randomUUID();
    let dstURL: URL | undefined;
    let digest: PlaceholderDigest | undefined;
    let kept = false;
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
      plan = planJob(request, header, limits.maxSide, limits.maxResultPixels);
      assertFitsWorker(plan, this.#deps.config.workerMemory, this.#deps.pool.fresh?.wasm ?? 0);
      if (header.format === "svg") {
        const size = { width: plan.width, height: plan.height, svgWidth: header.width };
        assertRenderCost(prefix[0], size, limits.maxSourcePixels);
      }
      local = this.#localSource(request.srcURL, plan);
      dst = substituteTags(request.dstTemplate, {
        width: plan.width,
        height: plan.height,
        ...nameParts(request.srcURL),
        format: extensionOf(plan.format),
      });
      dstURL = parseDestination(dst);
      refuseInPlace(transports, request.srcURL, dstURL, local);
      const placeholder = await placeholderFor(plan.format, plan.width, plan.height);
      digest = digestOf(placeholder);
      const job = { id, stage: "placeholder" } as const;
      const wrote = await transports.for(dstURL).write(dstURL, placeholder, {
        ...this.#writeOptions(plan, request.args.fieldName),
        job,
      });
      kept = wrote?.kept === true;
    } catch (err) {
      await stream.cancel().catch(() => {});
      throw err;
    }
    // A photo on this machine goes to a worker as it is (the worker reads it), so the job runs from here on.
    if (local) await stream.cancel();
    const now = Date.now();
    const record: JobRecord = {
      id,
      state: local ? "running" : "queued",
      startedAt: local ? now : undefined,
      dstURL: dst,
      width: plan.width,
      height: plan.height,
      plan,
      request: {
        operationType: request.operationType,
        srcURL: request.srcURL.href,
        dstTemplate: request.dstTemplate,
        args: request.args,
        callbackURL: request.callbackURL?.href,
      },
      attempts: 1,
      acceptedAt: now,
      owner: this.owner,
      leaseUntil: now + jobs.leaseMs,
      callback: request.callbackURL ? { pending: true, attempts: 0 } : undefined,
      placeholder: digest,
      kept: kept || undefined,
    };
    try {
      await this.#deps.journal.put(record);
    } catch (err) {
      await stream.cancel().catch(() => {});
      if (kept) await settleKept(transports, dstURL!, id, "failed", this.#transfer(), this.#deps.log);
      throw err;
    }
    this.#track(record.id, this.#execute(record, local ?? { stream, prefix }));
    return { id: record.id, dstURL: dst };
  }

  /** A resize source the worker may read itself, checked; undefined for remote sources and SVGs. */
  #localSource(srcURL: URL, plan: Plan): LocalSource | undefined {
    if (plan.op !== "resize") return undefined; // an SVG was read whole at validation
    return this.#deps.transports.for(srcURL).localSource?.(
      srcURL,
      this.#transfer(this.#deps.config.limits.maxSourceBytes),
    );
  }

  #track(id: string, work: Promise<void>): void {
    this.#active.set(id, work);
    work.catch((err) => this.#deps.log?.(`job ${id}: ${err?.stack ?? err}`)).finally(() => this.#active.delete(id));
  }

  /** Claims and starts every journal job that is due and free. */
  async #pickUp(): Promise<void> {
    if (this.#scanning || this.#stopping) return;
    this.#scanning = true;
    const { journal, config } = this.#deps;
    try {
      await journal.sweep();
      for (const id of await journal.openIds()) {
        if (this.#stopping || this.#active.size + this.#admitting >= config.limits.maxQueue) break;
        if (this.#active.has(id)) continue;
        using _slot = this.#holdSlot(); // through the claim's awaits, as for a request
        const now = Date.now();
        const record = await journal.claim(id, this.owner, config.jobs.leaseMs, (r) => {
          const free = !r.owner || (r.leaseUntil ?? 0) < now;
          const finished = r.state === "done" || r.state === "failed";
          return free &&
            (finished ? !!r.callback?.pending && (r.callback.nextAt ?? 0) <= now : (r.retryAt ?? 0) <= now);
        });
        if (!record) continue;
        const finished = record.state === "done" || record.state === "failed";
        if (finished) this.#track(id, this.#deliverCallback(record));
        else {
          // A retry was counted when it was scheduled; a job taken over from a dead server was not.
          const attempts = record.retryAt === undefined ? record.attempts + 1 : record.attempts;
          this.#deps.log?.(`resuming job ${id} (attempt ${attempts})`);
          await journal.update(id, this.owner, { attempts, retryAt: undefined });
          this.#track(id, this.#execute({ ...record, attempts }));
        }
      }
    } catch (err) {
      this.#deps.log?.(`journal scan failed: ${(err as Error).message}`);
    } finally {
      this.#scanning = false;
    }
  }

  /** Renews this server's lease on a job until stopped. */
  #heartbeat(id: string): () => void {
    const { journal, config } = this.#deps;
    const timer = setInterval(() => {
      journal.update(id, this.owner, { leaseUntil: Date.now() + config.jobs.leaseMs }).catch(() => {});
    }, Math.max(20, config.jobs.leaseMs / 3));
    return () => clearInterval(timer);
  }

  /**
   * One attempt at a job; on a passing failure, schedules the next. A job
   * just accepted comes with its source opened or, if local, checked.
   */
  async #execute(
    record: JobRecord,
    opened?: { stream: ReadableStream<Uint8Array>; prefix: Uint8Array[] } | LocalSource,
  ) {
    const { journal, config, transports, metrics } = this.#deps;
    const { id, plan } = record;
    const stopBeating = this.#heartbeat(id);
    try {
      const srcURL = new URL(record.request.srcURL);
      const { maxSourceBytes } = config.limits;
      if (!opened) await cleanUpAfter(transports, record, this.#transfer(), this.#deps.log);
      const download = async (from?: { stream: ReadableStream<Uint8Array>; prefix: Uint8Array[] }) => {
        const bytes = await readAll(
          from?.stream ?? await this.#download(srcURL),
          maxSourceBytes,
          from?.prefix ?? [],
        );
        await refusePlaceholder(bytes, record.placeholder);
        return bytes;
      };
      let source: Uint8Array | LocalSource;
      if (opened && "path" in opened) source = opened; // journaled as running when accepted
      else {
        source = (opened ? undefined : this.#localSource(srcURL, plan)) ?? await download(opened);
        if (!(await journal.update(id, this.owner, { state: "running", startedAt: Date.now() }))) return;
      }
      if (!(source instanceof Uint8Array)) await refusePlaceholder(source, record.placeholder);
      const timeout = plan.op === "rasterize" ? config.limits.renderTimeoutMs : config.limits.taskTimeoutMs;
      const dstURL = parseDestination(record.dstURL);
      const destination = transports.for(dstURL);
      const writeTo = destination.localPath?.(dstURL);
      const job = { id, stage: "result" } as const;
      const writeTemp = writeTo === undefined ? undefined : tempPathFor(writeTo, job);
      const result = await this.#process(plan, source, timeout, () => download(undefined), writeTo, writeTemp);
      if (writeTo === undefined) {
        await destination.write(dstURL, result.bytes, {
          ...this.#writeOptions(plan, record.request.args.fieldName),
          job,
        });
      }
      if (record.kept) await settleKept(transports, dstURL, id, "done", this.#transfer(), this.#deps.log);
      const done = { state: "done", finishedAt: Date.now(), times: result.times, error: undefined } as const;
      if (await journal.update(id, this.owner, done)) this.#finished({ ...record, ...done });
    } catch (err) {
      if (this.#stopping) return; // the lease goes back to the journal in stop()
      const error = asImgserveError(err);
      if (error.transient && record.attempts < config.jobs.maxAttempts) {
        const delay = config.jobs.retryBaseMs * 2 ** (record.attempts - 1);
        metrics.retries.inc();
        this.#deps.log?.(`job ${id} attempt ${record.attempts} failed (${error.message}); retrying in ${delay} ms`);
        await journal.update(id, this.owner, {
          state: "queued",
          attempts: record.attempts + 1,
          retryAt: Date.now() + delay,
          error: { code: error.code, message: error.message },
          owner: undefined,
          leaseUntil: undefined,
        });
        return;
      }
      const failed = {
        state: "failed",
        finishedAt: Date.now(),
        error: { code: error.code, message: error.message },
      } as const;
      if (record.kept) {
        await settleKept(transports, parseDestination(record.dstURL), id, "failed", this.#transfer(), this.#deps.log);
      }
      if (await journal.update(id, this.owner, failed)) this.#finished({ ...record, ...failed });
    } finally {
      stopBeating();
    }
  }

  /**
   * Runs the plan in the pool. A job lost with a worker before it started
   * is run again at once (its bytes read again, if they went down with the
   * worker), a few times at most, without counting an attempt.
   */
  async #process(
    plan: Plan,
    source: Uint8Array | LocalSource,
    timeoutMs: number,
    reread: () => Promise<Uint8Array>,
    writeTo?: string,
    writeTemp?: string,
  ): Promise<WorkResult> {
    for (let again = 0;; again++) {
      try {
        // Run again only on an idle worker, so it cannot wait behind the crashing job a second time.
        return await this.#deps.pool.run(plan, source, { timeoutMs, writeTo, writeTemp, alone: again > 0 });
      } catch (err) {
        if (!(err instanceof JobNotStarted) || again === 3) throw err;
        if (source instanceof Uint8Array) source = await reread();
      }
    }
  }

  #finished(record: JobRecord): void {
    this.#deps.metrics.jobs.inc({ state: record.state });
    this.#deps.metrics.jobDuration.observe(((record.finishedAt ?? Date.now()) - record.acceptedAt) / 1000);
    // Delivered apart from the job, so a dead endpoint holds up nothing else.
    if (record.callback?.pending && !this.#stopping) {
      this.#track(`${record.id}:callback`, this.#deliverCallback(record));
    }
  }

  async #deliverCallback(record: JobRecord): Promise<void> {
    const { journal, config } = this.#deps;
    const attempts = record.callback!.attempts + 1;
    const stopBeating = this.#heartbeat(record.id);
    try {
      await sendCallback(new URL(record.request.callbackURL!), record, this.#transfer(), config.callbackSecret);
      await journal.update(record.id, this.owner, { callback: { pending: false, attempts } });
    } catch (err) {
      const message = (err as Error).message;
      const more = attempts < CALLBACK_ATTEMPTS;
      this.#deps.log?.(`job ${record.id}: callback attempt ${attempts} failed: ${message}`);
      await journal.update(record.id, this.owner, {
        callback: {
          pending: more,
          attempts,
          lastError: message,
          nextAt: Date.now() + config.jobs.retryBaseMs * 2 ** (attempts - 1),
        },
        owner: undefined,
        leaseUntil: undefined,
      });
    } finally {
      stopBeating();
    }
  }
}

/** The network rules of any destination, applied to a callbackURL's host. */
async function checkCallbackHost(url: URL, guard: AddressGuard): Promise<void> {
  try {
    await guard.resolve(url.hostname);
  } catch (err) {
    if (err instanceof ImgserveError) throw new ImgserveError(err.name as ErrorName, `callbackURL: ${err.message}`);
    throw err;
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
        // One chunk is parsed as it is: this runs for every chunk until the header parses.
        const bytes = prefix.length === 1 ? prefix[0] : concat(prefix, size);
        return { header: readHeader(bytes, done), prefix };
      } catch (err) {
        if (!(err instanceof NeedMoreBytes)) throw err;
      }
    }
  } finally {
    reader.releaseLock();
  }
}
