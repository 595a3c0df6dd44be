/**
 * Prometheus metrics: requests by outcome, jobs by state, durations,
 * queue and worker gauges, retries.
 *
 * @module
 */
import { heldBytes, type WorkerMemory } from "../protocol/memory.ts";
import { Counter, Histogram, Registry, Sampled } from "./metrics_text.ts";
import { processFamilies } from "./process_metrics.ts";

/** What the gauges read at scrape time. */
export interface Gauges {
  queued: () => number;
  busyWorkers: () => number;
  workers: () => number;
  activeJobs: () => number;
  /** What each worker holds, in pool order (see protocol/memory.ts). */
  workerMemory?: () => WorkerMemory[];
  /** Workers replaced for their memory so far. */
  recycledWorkers?: () => number;
  /** A journal several servers share: its queue, and this server's part in it. */
  cluster?: { queueDepth: () => Promise<number | undefined>; claims: () => number; takeovers: () => number };
}

/** One server's metrics. */
export class Metrics {
  readonly registry: Registry = new Registry();
  readonly requests: Counter;
  readonly jobs: Counter;
  readonly retries: Counter;
  readonly jobDuration: Histogram;
  readonly replyLatency: Histogram;

  constructor(gauges: Gauges) {
    const registry = this.registry;
    this.requests = registry.add(
      new Counter(
        "imgserve_requests_total",
        "Job requests by outcome: accepted, parse_error, or the error code.",
        true,
      ),
    );
    this.jobs = registry.add(new Counter("imgserve_jobs_finished_total", "Jobs finished, by final state.", true));
    this.retries = registry.add(new Counter("imgserve_retries_total", "Job attempts scheduled again."));
    this.jobDuration = registry.add(
      new Histogram(
        "imgserve_job_duration_seconds",
        "From acceptance to the result in place (or failure).",
        [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      ),
    );
    this.replyLatency = registry.add(
      new Histogram(
        "imgserve_reply_latency_seconds",
        "Time to answer POST /.",
        [0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      ),
    );
    const gauge = (name: string, help: string, read: () => number) => registry.add(new Sampled(name, help, read));
    gauge("imgserve_queue_length", "Jobs waiting for a worker.", gauges.queued);
    gauge("imgserve_workers_busy", "Workers running a job.", gauges.busyWorkers);
    gauge("imgserve_workers", "Workers in the pool.", gauges.workers);
    gauge("imgserve_jobs_active", "Jobs this server is working on.", gauges.activeJobs);
    const { workerMemory, recycledWorkers } = gauges;
    if (workerMemory) {
      gauge(
        "imgserve_pool_memory_bytes",
        "Memory the workers hold: WebAssembly, kept buffers, JS heaps, render processes' WebAssembly.",
        () => workerMemory().reduce((sum, m) => sum + heldBytes(m), 0),
      );
      registry.add(
        new Sampled(
          "imgserve_worker_memory_bytes",
          "Memory one worker holds, by worker (its position in the pool) and kind: wasm, kept, heap, render.",
          () =>
            workerMemory().flatMap((m, i) =>
              (["wasm", "kept", "heap", "render"] as const).map((kind): [Record<string, string>, number] => [
                { worker: String(i), kind },
                m[kind],
              ])
            ),
        ),
      );
    }
    if (recycledWorkers) {
      gauge(
        "imgserve_workers_recycled",
        "Workers replaced for their memory: over --worker-memory, or idle far above a fresh one.",
        recycledWorkers,
      );
    }
    if (gauges.cluster) {
      const { queueDepth, claims, takeovers } = gauges.cluster;
      registry.add(
        new Sampled(
          "imgserve_cluster_jobs_open",
          "Jobs not finished in the shared journal, across all servers.",
          queueDepth,
        ),
      );
      registry.add(
        new Sampled("imgserve_journal_claims_total", "Jobs this server claimed from the journal.", claims, "counter"),
      );
      registry.add(
        new Sampled(
          "imgserve_journal_takeovers_total",
          "Jobs this server took over from a server whose lease lapsed.",
          takeovers,
          "counter",
        ),
      );
    }
    for (const family of processFamilies()) registry.add(family);
  }

  /** The exposition text. */
  text(): Promise<string> {
    return this.registry.metrics();
  }
}
