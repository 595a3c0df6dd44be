/**
 * Prometheus metrics: requests by outcome, jobs by state, durations,
 * queue and worker gauges, retries.
 *
 * @module
 */
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { heldBytes, type WorkerMemory } from "../workers/memory.ts";

/** What the gauges read at scrape time. */
export interface Gauges {
  queued: () => number;
  busyWorkers: () => number;
  workers: () => number;
  activeJobs: () => number;
  /** What each worker holds, in pool order (see workers/memory.ts). */
  workerMemory?: () => WorkerMemory[];
  /** Workers replaced for their memory so far. */
  recycledWorkers?: () => number;
}

/** One server's metrics. */
export class Metrics {
  readonly registry: Registry = new Registry();
  readonly requests: Counter<"outcome">;
  readonly jobs: Counter<"state">;
  readonly retries: Counter;
  readonly jobDuration: Histogram;
  readonly replyLatency: Histogram;

  constructor(gauges: Gauges) {
    const registers = [this.registry];
    this.requests = new Counter({
      name: "imgserve_requests_total",
      help: "Job requests by outcome: accepted, parse_error, or the error code.",
      labelNames: ["outcome"],
      registers,
    });
    this.jobs = new Counter({
      name: "imgserve_jobs_finished_total",
      help: "Jobs finished, by final state.",
      labelNames: ["state"],
      registers,
    });
    this.retries = new Counter({ name: "imgserve_retries_total", help: "Job attempts scheduled again.", registers });
    this.jobDuration = new Histogram({
      name: "imgserve_job_duration_seconds",
      help: "From acceptance to the result in place (or failure).",
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers,
    });
    this.replyLatency = new Histogram({
      name: "imgserve_reply_latency_seconds",
      help: "Time to answer POST /.",
      buckets: [0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(read());
        },
      });
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
      new Gauge({
        name: "imgserve_worker_memory_bytes",
        help: "Memory one worker holds, by worker (its position in the pool) and kind: wasm, kept, heap, render.",
        labelNames: ["worker", "kind"],
        registers,
        collect() {
          this.reset();
          workerMemory().forEach((m, i) => {
            for (const kind of ["wasm", "kept", "heap", "render"] as const) {
              this.set({ worker: String(i), kind }, m[kind]);
            }
          });
        },
      });
    }
    if (recycledWorkers) {
      gauge(
        "imgserve_workers_recycled",
        "Workers replaced for their memory: over --worker-memory, or idle far above a fresh one.",
        recycledWorkers,
      );
    }
  }

  /** The exposition text. */
  text(): Promise<string> {
    return this.registry.metrics();
  }
}
