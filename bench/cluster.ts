/**
 * `deno task bench:cluster`: one server with 2 workers against two servers
 * with 1 worker each on one PostgreSQL journal, the same corpus (every
 * image of bench/corpus.ts as a 200x120 thumbnail), 4 clients posting
 * round robin to the servers, each waiting for its job's callback (or,
 * with --poll, polling GET /jobs every 20 ms) before posting the next.
 * The configurations take turns, `--rounds` times, each PostgreSQL run on
 * a new cluster of its own (test/fixtures/postgres.ts). Per run: jobs/s,
 * the reply latency (the journal write before the 202), how busy the
 * workers were (the jobs' worker times over the run's wall time times the workers),
 * and the CPU time per job of the servers, of PostgreSQL and of the bench.
 * Then the journal's own ms per job (bench/journal_ops.ts) on KV and on
 * PostgreSQL, and the failover time after a SIGKILL.
 *
 * With `--warmup N`, N passes of the corpus go through the same servers
 * before the run is measured: a server process's first jobs pay for its
 * compiling (the main thread's JavaScript, the workers' codecs), once per
 * process, which a server running for days does not. Two servers pay it
 * twice: cold runs measure that, not the steady state a cluster runs in,
 * so 4 passes warm up by default (a profile after two warm-up passes still showed
 * two servers' main threads 30% busier per job than one's).
 *
 * Flags: --rounds N (default 3), --passes N (corpus passes each run, default 6), --warmup N (4), --poll,
 * --journal-jobs N (300).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { corpusJobs, ensureCorpus, listCorpus, MATE_DIR } from "./corpus.ts";
import { finished, percentile } from "./load.ts";
import { callbackReceiver } from "./load.ts";
import { startServerProcess } from "./server_process.ts";
import { journalMsPerJob } from "./journal_ops.ts";
import { dedicatedCluster } from "../test/fixtures/postgres.ts";
import { openJournal } from "../src/journal/mod.ts";

const { values: flags } = parseArgs({
  args: Deno.args,
  options: {
    rounds: { type: "string", default: "3" },
    passes: { type: "string", default: "6" },
    warmup: { type: "string", default: "4" },
    poll: { type: "boolean", default: false },
    "journal-jobs": { type: "string", default: "300" },
  },
});
const rounds = Number(flags.rounds);
const passes = Number(flags.passes);

await ensureCorpus();
const corpus = await listCorpus();
const outDir = await Deno.makeTempDir({ prefix: "imgserve-cluster-bench-" });
const jobs = corpusJobs(corpus, outDir);
const roots = [MATE_DIR, "/usr/share/backgrounds", outDir];
const TICK_S = 100; // clock ticks a second in /proc/*/stat (USER_HZ)

/** CPU seconds of a process, and with `children` of its children too, live and reaped. */
async function cpuSeconds(pid: number, children = true): Promise<number> {
  const stats = new Map<number, number[]>();
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const text = await Deno.readTextFile(`/proc/${entry.name}/stat`).catch(() => "");
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ").map(Number); // fields[0] is field 3, state
    if (fields.length > 15) stats.set(Number(entry.name), fields);
  }
  const own = stats.get(pid);
  if (!own) return 0;
  if (!children) return (own[11] + own[12]) / TICK_S; // utime stime
  let ticks = own[11] + own[12] + own[13] + own[14]; // and cutime cstime
  for (const fields of stats.values()) if (fields[1] === pid) ticks += fields[11] + fields[12];
  return ticks / TICK_S;
}

interface Run {
  jobsPerSecond: number;
  replyP50: number;
  failed: number;
  /** The jobs' worker times (decode, resize, encode) summed, over the run's wall time times the workers. */
  busy: number;
  /** CPU ms per job: the servers together, PostgreSQL, the bench's clients. */
  cpu: { servers: number; postgres: number; clients: number };
}

/**
 * Posts `passes` passes of the corpus from 4 clients, round robin over
 * `bases`, each client waiting for its job, after `--warmup` passes not
 * measured.
 */
async function load(bases: string[], workers: number, pids: number[], postgresPid?: number): Promise<Run> {
  const warm = jobs.length * Number(flags.warmup);
  let total = warm;
  let next = 0, failed = 0, occupied = 0;
  let firstError: string | undefined;
  const replies: number[] = [];
  const callbacks = callbackReceiver();
  const cpu = async () =>
    [
      (await Promise.all(pids.map((pid) => cpuSeconds(pid)))).reduce((a, b) => a + b, 0),
      postgresPid ? await cpuSeconds(postgresPid) : 0,
      await cpuSeconds(Deno.pid, false),
    ] as const;
  const client = async (slot: number) => {
    while (next < total) {
      const index = next++;
      const base = bases[index % bases.length];
      const spec = jobs[index % jobs.length];
      const body = {
        ...spec.body,
        dstURL: String(spec.body.dstURL).replace("{slot}", String(slot)),
        ...(flags.poll ? {} : { callbackURL: callbacks.url }),
      };
      const posted = performance.now();
      const response = await fetch(`${base}/`, {
        method: "POST",
        body: JSON.stringify(body),
        headers: { "content-type": "application/json" },
      });
      const reply = await response.json();
      replies.push(performance.now() - posted);
      if (response.status === 202 && !flags.poll) await callbacks.wait(reply.id);
      const outcome = response.status !== 202
        ? reply
        : flags.poll
        ? await finished(base, reply.id)
        : await (await fetch(`${base}/jobs/${reply.id}`)).json();
      if (outcome.state !== "done") {
        failed++;
        firstError ??= JSON.stringify(outcome);
        continue;
      }
      occupied += Object.values(outcome.times as Record<string, number>).reduce((a, b) => a + b, 0);
    }
  };
  let cpuBefore: Awaited<ReturnType<typeof cpu>>;
  let start: number;
  try {
    await Promise.all([0, 1, 2, 3].map(client));
    [next, failed, occupied, total] = [0, 0, 0, jobs.length * passes];
    replies.length = 0;
    cpuBefore = await cpu();
    start = performance.now();
    await Promise.all([0, 1, 2, 3].map(client));
  } finally {
    await callbacks.close();
  }
  const wall = performance.now() - start;
  const cpuAfter = await cpu();
  if (firstError) console.error(`first failure: ${firstError}`);
  const perJob = (i: number) => (cpuAfter[i] - cpuBefore[i]) * 1000 / total;
  return {
    jobsPerSecond: total / (wall / 1000),
    replyP50: percentile(replies, 50),
    failed,
    busy: occupied / (wall * workers),
    cpu: { servers: perJob(0), postgres: perJob(1), clients: perJob(2) },
  };
}

async function postmasterPid(dataDir: string): Promise<number> {
  return Number((await Deno.readTextFile(`${dataDir}/postmaster.pid`)).split("\n")[0]);
}

async function onePg(workers: number, servers: number): Promise<Run> {
  await using pg = await dedicatedCluster({ fsync: true });
  const started = await Promise.all(
    Array.from(
      { length: servers },
      () => startServerProcess({ workers, fileRoots: roots, flags: ["--journal", pg.url, "--shared-file-roots"] }),
    ),
  );
  try {
    const pids = started.map((s) => s.pid);
    return await load(started.map((s) => s.base), workers * servers, pids, await postmasterPid(pg.dataDir));
  } finally {
    for (const server of started) await server[Symbol.asyncDispose]();
  }
}

async function oneKv(): Promise<Run> {
  const dir = await Deno.makeTempDir({ prefix: "imgserve-cluster-bench-kv-" });
  try {
    await using server = await startServerProcess({ workers: 2, fileRoots: roots, flags: ["--kv", `${dir}/jobs.kv`] });
    return await load([server.base], 2, [server.pid]);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

const show = (r: Run) =>
  `${r.jobsPerSecond.toFixed(2)} jobs/s, workers busy ${(r.busy * 100).toFixed(0)}%, CPU ms/job servers ${
    r.cpu.servers.toFixed(0)
  } + PostgreSQL ${r.cpu.postgres.toFixed(0)} + clients ${r.cpu.clients.toFixed(0)}, reply p50 ${
    r.replyP50.toFixed(1)
  } ms${r.failed ? `, FAILED ${r.failed}` : ""}`;
const results: Record<string, Run[]> = { "1x2 KV": [], "1x2 PG": [], "2x1 PG": [] };
const configurations: Record<string, () => Promise<Run>> = {
  "1x2 KV": oneKv,
  "1x2 PG": () => onePg(2, 1),
  "2x1 PG": () => onePg(1, 2),
};
const warmup = Number(flags.warmup) ? `, after ${jobs.length * Number(flags.warmup)} not measured` : "";
console.log(
  `${jobs.length * passes} jobs a run${warmup}, 4 clients ${flags.poll ? "polling GET /jobs" : "told by callback"}`,
);
for (let round = 0; round < rounds; round++) {
  // Alternate the order, so that neither configuration always runs right after the other.
  const order = Object.keys(configurations);
  if (round % 2) order.reverse();
  for (const name of order) {
    results[name].push(await configurations[name]());
    console.log(`round ${round + 1} ${name}: ${show(results[name].at(-1)!)}`);
  }
  const ratio = results["2x1 PG"].at(-1)!.jobsPerSecond / results["1x2 KV"].at(-1)!.jobsPerSecond;
  console.log(`round ${round + 1}: 2x1 PG / 1x2 KV ${ratio.toFixed(2)}`);
}
const ratios = results["2x1 PG"].map((r, i) => r.jobsPerSecond / results["1x2 KV"][i].jobsPerSecond);
console.log(
  `two servers x 1 worker on PostgreSQL / one server x 2 workers on KV, each round: ${
    ratios.map((r) => r.toFixed(2)).join(", ")
  }`,
);

// The journal's own time per job, one job after another.
const journalJobs = Number(flags["journal-jobs"]);
{
  const dir = await Deno.makeTempDir({ prefix: "imgserve-cluster-bench-kv-" });
  await using kv = await openJournal(`${dir}/jobs.kv`, { keepFinishedMs: 86_400_000 });
  await using pg = await dedicatedCluster({ fsync: true });
  await using postgres = await openJournal(pg.url, { keepFinishedMs: 86_400_000 });
  const line = [];
  for (let turn = 0; turn < 2; turn++) {
    line.push(`KV ${(await journalMsPerJob(kv, journalJobs)).toFixed(2)}`);
    line.push(`PG ${(await journalMsPerJob(postgres, journalJobs)).toFixed(2)}`);
    line.push(`PG handed over ${(await journalMsPerJob(postgres, journalJobs, true)).toFixed(2)}`);
  }
  console.log(`journal ms per job (${journalJobs} in a row, twice): ${line.join(", ")}`);
  await Deno.remove(dir, { recursive: true }).catch(() => {});
}

// Failover: two jobs running on a server killed with SIGKILL, done on the other once the lease lapses.
{
  const LEASE_MS = 3000;
  await using pg = await dedicatedCluster({ fsync: true });
  const leased = ["--journal", pg.url, "--shared-file-roots", "--lease-ms", String(LEASE_MS)];
  await using a = await startServerProcess({ workers: 2, fileRoots: roots, flags: leased });
  await using b = await startServerProcess({ workers: 1, fileRoots: roots, flags: leased });
  const ids = [];
  for (const spec of jobs.slice(0, 2)) {
    const body = { ...spec.body, dstURL: String(spec.body.dstURL).replace("{slot}", "failover") };
    const headers = { "content-type": "application/json" };
    const response = await fetch(`${a.base}/`, { method: "POST", body: JSON.stringify(body), headers });
    ids.push((await response.json()).id);
  }
  Deno.kill(a.pid, "SIGKILL");
  const killed = performance.now();
  const done = [];
  for (const id of ids) {
    const outcome = await finished(b.base, id);
    done.push(`${outcome.state} after ${((performance.now() - killed) / 1000).toFixed(2)} s`);
  }
  console.log(`failover, lease ${LEASE_MS} ms: the killed server's 2 jobs ${done.join(", ")} on the other`);
}
await Deno.remove(outDir, { recursive: true }).catch(() => {});
