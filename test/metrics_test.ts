import { assert, assertEquals } from "./helpers/assert.ts";
import { Metrics } from "../src/metrics.ts";
import { EXPOSITION_TYPE } from "../src/metrics_text.ts";

function metrics(): Metrics {
  return new Metrics({
    queued: () => 2,
    busyWorkers: () => 1,
    workers: () => 2,
    activeJobs: () => 3,
    workerMemory: () => [{ wasm: 10, kept: 4, heap: 5, render: 0 }],
    recycledWorkers: () => 0,
  });
}

/** The sample lines of the exposition, by series name (name and labels). */
function samples(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (\S+)$/.exec(line);
    assert(match, `a sample line in the text format: ${line}`);
    values.set(match[1], match[2] === "+Inf" ? Infinity : Number(match[2]));
  }
  return values;
}

Deno.test("/metrics text: counters by label, cumulative histogram buckets, gauges read at scrape time", async () => {
  const m = metrics();
  m.requests.inc({ outcome: "accepted" });
  m.requests.inc({ outcome: "accepted" });
  m.requests.inc({ outcome: "402" });
  m.jobs.inc({ state: "done" });
  m.jobDuration.observe(0.3);
  m.jobDuration.observe(7);
  m.jobDuration.observe(1000);
  const text = await m.text();
  assertEquals(m.registry.contentType, EXPOSITION_TYPE);
  const values = samples(text);
  assertEquals(values.get('imgserve_requests_total{outcome="accepted"}'), 2);
  assertEquals(values.get('imgserve_requests_total{outcome="402"}'), 1);
  assertEquals(values.get("imgserve_retries_total"), 0, "an unlabelled counter shows 0 before its first increase");
  assertEquals(values.get('imgserve_job_duration_seconds_bucket{le="0.25"}'), 0);
  assertEquals(values.get('imgserve_job_duration_seconds_bucket{le="0.5"}'), 1);
  assertEquals(values.get('imgserve_job_duration_seconds_bucket{le="10"}'), 2);
  assertEquals(values.get('imgserve_job_duration_seconds_bucket{le="300"}'), 2);
  assertEquals(values.get('imgserve_job_duration_seconds_bucket{le="+Inf"}'), 3);
  assertEquals(values.get("imgserve_job_duration_seconds_count"), 3);
  assertEquals(values.get("imgserve_job_duration_seconds_sum"), 1007.3);
  assertEquals(values.get("imgserve_queue_length"), 2);
  assertEquals(values.get('imgserve_worker_memory_bytes{worker="0",kind="wasm"}'), 10);
  assertEquals(values.get("imgserve_pool_memory_bytes"), 19);
  assert(text.includes("# TYPE imgserve_job_duration_seconds histogram\n"));
  assert(text.includes("# TYPE imgserve_requests_total counter\n"));
  assert(
    text.includes("# HELP imgserve_queue_length Jobs waiting for a worker.\n# TYPE imgserve_queue_length gauge\n"),
  );
});

Deno.test("/metrics text carries the standard process metrics, read from this process", async () => {
  const values = samples(await metrics().text());
  const rss = values.get("process_resident_memory_bytes")!;
  assert(rss > 10 * 1024 * 1024 && rss < 64 * 1024 ** 3, `resident memory ${rss}`);
  assert(values.get("process_cpu_seconds_total")! > 0);
  const start = values.get("process_start_time_seconds")!;
  assert(Math.abs(start - Date.now() / 1000) < 3600, `start time ${start}`);
  if (Deno.build.os !== "linux") return;
  assert(values.get("process_open_fds")! >= 3, "stdin, stdout, stderr at least");
  assert(values.get("process_max_fds")! >= values.get("process_open_fds")!);
  assert(values.get("process_virtual_memory_bytes")! >= rss);
  assert(values.get("process_heap_bytes")! > 0);
});

Deno.test("/metrics text escapes label values", async () => {
  const m = metrics();
  m.requests.inc({ outcome: 'a"b\\c\nd' });
  assert((await m.text()).includes('imgserve_requests_total{outcome="a\\"b\\\\c\\nd"} 1\n'));
});
