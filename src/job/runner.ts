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
import { JobNotStarted, type WorkerPool } from "../pool.ts";
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
import type { JobRecord, Journal, OutputRecord } from "./journal.ts";
import { cleanUpAfter, digestOf, refuseInPlace, refusePlaceholder, settleKept } from "./originals.ts";
import { jobError, outputKey, refuseSharedDestinations } from "./outputs.ts";
import { type OutputResult, type OutputTask, runOutputs } from "./run_outputs.ts";
import { tempPathFor } from "../transport/keep.ts";
import { contentTypeOf, extensionOf, type Plan, planJob } from "./plan.ts";
import { atOutput, type JobRequest, type OutputRequest } from "./request.ts";
import { nameParts, parseDestination, substituteTags, withTagsStoodIn } from "./template.ts";

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
  async accept(request: JobRequest): Promise<JobRecord> {
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

  async #admit(request: JobRequest): Promise<JobRecord> {
    const { limits, jobs } = this.#deps.config;
    const { transports } = this.#deps;
    const at = (i: number) => request.multi ? `outputs[${i}].` : "";
    transports.for(request.srcURL);
    for (const [i, output] of request.outputs.entries()) {
      atOutput(at(i), () => transports.for(new URL(withTagsStoodIn(output.dstTemplate))));
    }
    // Checked now, so a callback the server would never be allowed to send is refused with the job.
    if (request.callbackURL) await checkCallbackHost(request.callbackURL, this.#deps.guard ?? openGuard);
    const stream = await this.#download(request.srcURL);
    let prefix: Uint8Array[];
    let local: LocalSource | undefined;
    const id = crypto.randomUUID();
    const outputs: OutputRecord[] = [];
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
      for (const [i, output] of request.outputs.entries()) {
        outputs.push(atOutput(at(i), () => this.#planOutput(request, output, header, prefix[0])));
      }
      local = this.#localSource(request.srcURL, outputs[0].plan);
      for (const [i, output] of outputs.entries()) {
        atOutput(at(i), () => refuseInPlace(transports, request.srcURL, new URL(output.dstURL), local));
      }
      refuseSharedDestinations(transports, outputs);
      // Every output is valid before the first placeholder is written.
      for (const [i, output] of outputs.entries()) {
        await atOutput(at(i), () => this.#placePlaceholder(id, i, output, request.outputs[i].args.fieldName));
      }
    } catch (err) {
      await stream.cancel().catch(() => {});
      await this.#takeBack(id, outputs);
      throw err;
    }
    // A photo on this machine goes to a worker as it is (the worker reads it), so the job runs from here on.
    if (local) await stream.cancel();
    const now = Date.now();
    const record: JobRecord = {
      id,
      state: local ? "running" : "queued",
      startedAt: local ? now : undefined,
      outputs,
      request: {
        operationType: request.operationType,
        srcURL: request.srcURL.href,
        outputs: request.outputs,
        multi: request.multi || undefined,
        callbackURL: request.callbackURL?.href,
      },
      attempts: 1,
      acceptedAt: now,
      owner: this.owner,
      leaseUntil: now + jobs.leaseMs,
      callback: request.callbackURL ? { pending: true, attempts: 0 } : undefined,
    };
    try {
      await this.#deps.journal.put(record);
    } catch (err) {
      await stream.cancel().catch(() => {});
      await this.#takeBack(id, outputs);
      throw err;
    }
    this.#track(record.id, this.#execute(record, local ?? { stream, prefix }));
    return record;
  }

  /** One output's plan and filled-in destination, checked against the limits. */
  #planOutput(request: JobRequest, output: OutputRequest, header: ImageHeader, svg: Uint8Array): OutputRecord {
    const { limits } = this.#deps.config;
    const plan = planJob(
      { operationType: request.operationType, args: output.args },
      header,
      limits.maxSide,
      limits.maxResultPixels,
    );
    if (header.format === "svg") {
      assertRenderCost(svg, { width: plan.width, height: plan.height, svgWidth: header.width }, limits.maxSourcePixels);
    }
    const dstURL = substituteTags(output.dstTemplate, {
      width: plan.width,
      height: plan.height,
      ...nameParts(request.srcURL),
      format: extensionOf(plan.format),
    });
    parseDestination(dstURL);
    return { dstURL, width: plan.width, height: plan.height, plan, state: "pending" };
  }

  /** Uploads an output's placeholder, noting its digest and whether an earlier file was kept. */
  async #placePlaceholder(id: string, index: number, output: OutputRecord, fieldName?: string): Promise<void> {
    const dstURL = new URL(output.dstURL);
    const placeholder = await placeholderFor(output.plan.format, output.width, output.height);
    const wrote = await this.#deps.transports.for(dstURL).write(dstURL, placeholder, {
      ...this.#writeOptions(output.plan, fieldName),
      job: { id: outputKey(id, index), stage: "placeholder" },
    });
    output.placeholder = digestOf(placeholder);
    if (wrote?.kept) output.kept = true;
  }

  /** A job refused after some placeholders were placed: the files they replaced are put back. */
  async #takeBack(id: string, outputs: OutputRecord[]): Promise<void> {
    for (const [i, output] of outputs.entries()) {
      if (!output.kept) continue;
      await settleKept(
        this.#deps.transports,
        new URL(output.dstURL),
        outputKey(id, i),
        "failed",
        this.#transfer(),
        this.#deps.log,
      );
    }
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
   * One attempt at a job: the source read once, then every output still
   * pending made and delivered in turn, each journaled as it ends. On a
   * passing failure the next attempt is scheduled, for the failed outputs
   * only. A job just accepted comes with its source opened or, if local,
   * checked.
   */
  async #execute(
    record: JobRecord,
    opened?: { stream: ReadableStream<Uint8Array>; prefix: Uint8Array[] } | LocalSource,
  ) {
    const { journal, config, transports } = this.#deps;
    const { id } = record;
    const outputs = record.outputs.map((output) => ({ ...output }));
    const pending = outputs.flatMap((output, i) => output.state === "pending" ? [i] : []);
    const failures = new Map<number, ImgserveError>();
    // Outputs are journaled one by one as they end, in order, so a crash never redoes a delivered one.
    let saved = Promise.resolve(true);
    const save = (patch: Partial<JobRecord> = {}) =>
      saved = saved.then((ok) => ok && journal.update(id, this.owner, { ...patch, outputs: structuredClone(outputs) }));
    let delivering = Promise.resolve();
    const stopBeating = this.#heartbeat(id);
    try {
      // Killed after its last output was journaled but before the job was: nothing left to make.
      if (pending.length === 0) return await this.#conclude(record, outputs, failures, save);
      const srcURL = new URL(record.request.srcURL);
      const { plan } = outputs[pending[0]];
      const { maxSourceBytes } = config.limits;
      if (!opened) {
        for (const i of pending) {
          await cleanUpAfter(transports, outputs[i].dstURL, outputKey(id, i), this.#transfer(), this.#deps.log);
        }
      }
      const refuseOwnPlaceholders = async (source: Uint8Array | LocalSource) => {
        for (const output of outputs) await refusePlaceholder(source, output.placeholder);
      };
      const download = async (from?: { stream: ReadableStream<Uint8Array>; prefix: Uint8Array[] }) => {
        const bytes = await readAll(
          from?.stream ?? await this.#download(srcURL),
          maxSourceBytes,
          from?.prefix ?? [],
        );
        await refuseOwnPlaceholders(bytes);
        return bytes;
      };
      let source: Uint8Array | LocalSource;
      if (opened && "path" in opened) source = opened; // journaled as running when accepted
      else {
        source = (opened ? undefined : this.#localSource(srcURL, plan)) ?? await download(opened);
        if (!(await journal.update(id, this.owner, { state: "running", startedAt: Date.now() }))) return;
      }
      if (!(source instanceof Uint8Array)) await refuseOwnPlaceholders(source);
      const timeout = plan.op === "rasterize" ? config.limits.renderTimeoutMs : config.limits.taskTimeoutMs;
      const tasks = pending.map((i) => {
        const writeTo = transports.for(new URL(outputs[i].dstURL)).localPath?.(new URL(outputs[i].dstURL));
        const job = { id: outputKey(id, i), stage: "result" } as const;
        return {
          plan: outputs[i].plan,
          writeTo,
          writeTemp: writeTo === undefined ? undefined : tempPathFor(writeTo, job),
        };
      });
      const made = (k: number, result: OutputResult) => {
        const i = pending[k];
        delivering = delivering.then(async () => {
          try {
            if (!result.ok) throw result.error;
            const size = await this.#deliver(record, i, tasks[k].writeTo, result.bytes);
            if (outputs[i].kept) {
              await settleKept(
                transports,
                new URL(outputs[i].dstURL),
                outputKey(id, i),
                "done",
                this.#transfer(),
                this.#deps.log,
              );
            }
            outputs[i] = { ...outputs[i], state: "done", size, times: result.times, error: undefined, kept: undefined };
            await save();
          } catch (err) {
            failures.set(i, asImgserveError(err));
          }
        });
      };
      await this.#process(source, tasks, timeout, () => download(undefined), made);
      await delivering;
      await this.#conclude(record, outputs, failures, save);
    } catch (err) {
      if (this.#stopping) return; // the lease goes back to the journal in stop()
      await delivering;
      const error = asImgserveError(err);
      for (const i of pending) if (outputs[i].state === "pending" && !failures.has(i)) failures.set(i, error);
      await this.#conclude(record, outputs, failures, save, error);
    } finally {
      stopBeating();
    }
  }

  /** Uploads an output's result, unless the worker wrote it itself; resolves with its size. */
  async #deliver(record: JobRecord, index: number, writeTo: string | undefined, bytes: Uint8Array<ArrayBuffer>) {
    if (writeTo !== undefined) return (await Deno.stat(writeTo)).size;
    const output = record.outputs[index];
    const dstURL = new URL(output.dstURL);
    await this.#deps.transports.for(dstURL).write(dstURL, bytes, {
      ...this.#writeOptions(output.plan, record.request.outputs[index].args.fieldName),
      job: { id: outputKey(record.id, index), stage: "result" },
    });
    return bytes.byteLength;
  }

  /**
   * Ends an attempt: an output whose failure may pass is tried again on
   * the next attempt, while attempts remain; any other failed output is
   * failed for good, its earlier file put back. The job is done when every
   * output is, failed when none is left to retry and one failed.
   */
  async #conclude(
    record: JobRecord,
    outputs: OutputRecord[],
    failures: Map<number, ImgserveError>,
    save: (patch?: Partial<JobRecord>) => Promise<boolean>,
    whole?: ImgserveError,
  ): Promise<void> {
    const { config, transports, metrics } = this.#deps;
    const { id } = record;
    const again = record.attempts < config.jobs.maxAttempts;
    let retried: ImgserveError | undefined;
    for (const [i, error] of failures) {
      outputs[i].error = { code: error.code, message: error.message };
      if (error.transient && again) {
        retried ??= error;
        continue;
      }
      outputs[i].state = "failed";
      if (outputs[i].kept) {
        await settleKept(
          transports,
          new URL(outputs[i].dstURL),
          outputKey(id, i),
          "failed",
          this.#transfer(),
          this.#deps.log,
        );
        outputs[i].kept = undefined;
      }
    }
    if (retried) {
      const error = whole ?? retried;
      const delay = config.jobs.retryBaseMs * 2 ** (record.attempts - 1);
      metrics.retries.inc();
      this.#deps.log?.(`job ${id} attempt ${record.attempts} failed (${error.message}); retrying in ${delay} ms`);
      await save({
        state: "queued",
        attempts: record.attempts + 1,
        retryAt: Date.now() + delay,
        error: { code: error.code, message: error.message },
        owner: undefined,
        leaseUntil: undefined,
      });
      return;
    }
    const error = jobError(outputs, record.request.multi === true, whole);
    const end: Partial<JobRecord> = error
      ? { state: "failed", finishedAt: Date.now(), error }
      : { state: "done", finishedAt: Date.now(), error: undefined };
    if (await save(end)) this.#finished({ ...record, ...end, outputs });
  }

  /**
   * Makes the outputs in the pool. Outputs lost with a worker before they
   * started are run again at once (the source read again, if it went down
   * with the worker), a few times at most, without counting an attempt.
   */
  async #process(
    source: Uint8Array | LocalSource,
    tasks: OutputTask[],
    timeoutMs: number,
    reread: () => Promise<Uint8Array>,
    onOutput: (index: number, result: OutputResult) => void,
  ): Promise<void> {
    let left = tasks.map((_, k) => k);
    for (let again = 0;; again++) {
      const done = new Set<number>();
      try {
        // Run again only on an idle worker, so it cannot wait behind the crashing job a second time.
        await runOutputs(this.#deps.pool, source, left.map((k) => tasks[k]), {
          timeoutMs,
          alone: again > 0,
          onOutput: (j, result) => {
            done.add(j);
            onOutput(left[j], result);
          },
        });
        return;
      } catch (err) {
        if (!(err instanceof JobNotStarted) || again === 3) throw err;
        left = left.filter((_, j) => !done.has(j));
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
