/**
 * `deno task bench:cluster`: one server with 2 workers against two servers
 * with 1 worker each on one PostgreSQL journal, the same corpus (every
 * image of bench/corpus.ts as a 200x120 thumbnail), 4 clients posting
 * round robin to the servers and polling for the outcome; and the reply
 * latency (the journal write before the 202) with the embedded KV journal
 * and with PostgreSQL. The configurations take turns, `--rounds` times.
 *
 * PostgreSQL: `--journal URL` (an empty database each run is made by
 * dropping imgserve's tables), else the test suite's cluster
 * (test/fixtures/postgres.ts) is started.
 *
 * Flags: --rounds N (default 2), --passes N (corpus passes each run, default 3).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { corpusJobs, ensureCorpus, listCorpus, MATE_DIR } from "./corpus.ts";
import { finished, percentile } from "./load.ts";
import { startServerProcess } from "./server_process.ts";
import { testDatabase } from "../test/fixtures/postgres.ts";

const { values: flags } = parseArgs({
  args: Deno.args,
  options: { rounds: { type: "string", default: "2" }, passes: { type: "string", default: "3" } },
});
const rounds = Number(flags.rounds);
const passes = Number(flags.passes);

await ensureCorpus();
const corpus = await listCorpus();
const outDir = await Deno.makeTempDir({ prefix: "imgserve-cluster-bench-" });
const jobs = corpusJobs(corpus, outDir);
const roots = [MATE_DIR, "/usr/share/backgrounds", outDir];

interface Run {
  jobsPerSecond: number;
  replyP50: number;
  failed: number;
}

/** Posts `passes` passes of the corpus from 4 clients, round robin over `bases`, each client waiting for its job. */
async function load(bases: string[]): Promise<Run> {
  const total = jobs.length * passes;
  let next = 0, failed = 0;
  let firstError: string | undefined;
  const replies: number[] = [];
  const start = performance.now();
  const client = async (slot: number) => {
    while (next < total) {
      const index = next++;
      const base = bases[index % bases.length];
      const spec = jobs[index % jobs.length];
      const body = { ...spec.body, dstURL: String(spec.body.dstURL).replace("{slot}", String(slot)) };
      const posted = performance.now();
      const response = await fetch(`${base}/`, {
        method: "POST",
        body: JSON.stringify(body),
        headers: { "content-type": "application/json" },
      });
      const reply = await response.json();
      replies.push(performance.now() - posted);
      const outcome = response.status === 202 ? await finished(base, reply.id) : reply;
      if (outcome.state !== "done") {
        failed++;
        firstError ??= JSON.stringify(outcome);
      }
    }
  };
  await Promise.all([0, 1, 2, 3].map(client));
  if (firstError) console.error(`first failure: ${firstError}`);
  return {
    jobsPerSecond: total / ((performance.now() - start) / 1000),
    replyP50: percentile(replies, 50),
    failed,
  };
}

async function onePg(url: string, workers: number, servers: number): Promise<Run> {
  const started = await Promise.all(
    Array.from({ length: servers }, () =>
      startServerProcess({
        workers,
        fileRoots: roots,
        flags: ["--journal", url, "--shared-file-roots"],
      })),
  );
  try {
    return await load(started.map((s) => s.base));
  } finally {
    for (const server of started) await server[Symbol.asyncDispose]();
  }
}

async function oneKv(): Promise<Run> {
  const dir = await Deno.makeTempDir({ prefix: "imgserve-cluster-bench-kv-" });
  await using server = await startServerProcess({ workers: 2, fileRoots: roots, flags: ["--kv", `${dir}/jobs.kv`] });
  try {
    return await load([server.base]);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

const results: Record<string, Run[]> = { "1x2 KV": [], "1x2 PG": [], "2x1 PG": [] };
for (let round = 0; round < rounds; round++) {
  results["1x2 KV"].push(await oneKv());
  {
    await using db = await testDatabase();
    results["1x2 PG"].push(await onePg(db.url, 2, 1));
  }
  {
    await using db = await testDatabase();
    results["2x1 PG"].push(await onePg(db.url, 1, 2));
  }
  console.log(
    `round ${round + 1}: ${
      Object.entries(results).map(([name, runs]) => `${name} ${runs.at(-1)!.jobsPerSecond.toFixed(2)} jobs/s`).join(
        ", ",
      )
    }`,
  );
}
const median = (values: number[]) => percentile(values, 50);
console.log(`\n${jobs.length * passes} jobs a run, 4 clients, ${rounds} rounds; medians:`);
for (const [name, runs] of Object.entries(results)) {
  console.log(
    `${name}: ${median(runs.map((r) => r.jobsPerSecond)).toFixed(2)} jobs/s, reply p50 ${
      median(runs.map((r) => r.replyP50)).toFixed(1)
    } ms, failed ${runs.reduce((n, r) => n + r.failed, 0)}`,
  );
}
const ratio = median(results["2x1 PG"].map((r) => r.jobsPerSecond)) /
  median(results["1x2 KV"].map((r) => r.jobsPerSecond));
console.log(`two servers x 1 worker on PostgreSQL / one server x 2 workers on KV: ${ratio.toFixed(3)}`);
await Deno.remove(outDir, { recursive: true }).catch(() => {});
