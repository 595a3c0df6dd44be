/**
 * PostgreSQL itself stopped (pg_ctl stop -m fast) and started again while
 * a client keeps posting jobs: on a cluster of the test's own, since
 * stopping the run's shared one would fail the tests running beside it.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { assertImage, GREEN, png, thirds } from "../helpers/images.ts";
import { spawnServer, waitFinished } from "../helpers/process.ts";
import { tempDir } from "../helpers/server.ts";
import { postJob, resizeJob } from "../helpers/jobs.ts";
import { pollUntil } from "../helpers/poll.ts";
import { dedicatedCluster } from "../fixtures/postgres.ts";

const LEASE_MS = 1500;

interface Reply {
  n: number;
  status: number;
  code?: unknown;
  retryAfter: string | null;
  id?: string;
  ms: number;
  phase: "before" | "outage" | "after";
}

Deno.test("PostgreSQL stopped and started under load: accepted jobs are not lost, and requests during the outage get the documented 503", async () => {
  await using pg = await dedicatedCluster();
  await using dir = await tempDir();
  await Deno.writeFile(`${dir.path}/src.png`, await png(thirds(900, 600)));
  await using server = await spawnServer([
    ...["--journal", pg.url, "--file-root", dir.path, "--shared-file-roots"],
    ...["--lease-ms", String(LEASE_MS), "--workers", "2", "--max-queue", "64"],
  ]);
  const health = async () => {
    const response = await fetch(`${server.base}/healthz`);
    return { status: response.status, journal: (await response.json()).journal };
  };
  let phase: Reply["phase"] = "before";
  let stopClients = false;
  let n = 0;
  const replies: Reply[] = [];
  // Two clients post one job after another, as long as the test runs (bounded: at most 400 jobs).
  const client = async () => {
    while (!stopClients && n < 400) {
      const mine = n++;
      const dst = `file://${dir.path}/out/${mine}.png`;
      const posted = performance.now();
      const during = phase;
      const job = resizeJob(`file://${dir.path}/src.png`, dst, { width: 60, height: 40 });
      const { status, json, headers } = await postJob(server.base, job);
      replies.push({
        n: mine,
        status,
        code: json.code,
        retryAfter: headers.get("retry-after"),
        id: json.id as string | undefined,
        // Posted before the stop: a 202 may come after it. Posted during the outage: a 202 only once it ended.
        phase: during === "outage" ? phase : during,
        ms: performance.now() - posted,
      });
      await new Promise((r) => setTimeout(r, 30));
    }
  };
  const clients = [client(), client()];
  const count = (p: Reply["phase"], status: number) =>
    replies.filter((r) => r.phase === p && r.status === status).length;
  try {
    await pollUntil(() => count("before", 202) >= 6, { timeoutMs: 15_000, message: "6 jobs accepted before" });
    const stoppedAt = performance.now();
    await pg.stop();
    phase = "outage";
    await pollUntil(() => count("outage", 503) >= 3, {
      timeoutMs: 10_000,
      message: () =>
        `3 refusals during the outage; replies: ${JSON.stringify(replies.filter((r) => r.phase !== "before"))}`,
    });
    assertEquals(await health(), { status: 503, journal: false }, "/healthz during the outage");
    phase = "after";
    await pg.start();
    const startedAt = performance.now();
    await pollUntil(async () => (await health()).journal === true, {
      timeoutMs: 15_000,
      intervalMs: 100,
      message: "/healthz says the journal is back, without a restart",
    });
    const recoveredMs = performance.now() - startedAt;
    await pollUntil(() => count("after", 202) >= 4, {
      timeoutMs: 15_000,
      message: () => `4 jobs accepted after; last replies: ${JSON.stringify(replies.slice(-5))}`,
    });
    stopClients = true;
    await Promise.all(clients);
    // The driver's default reconnect backoff (up to 20 s) made each of these wait for the 5 s query bound.
    const refused = replies.filter((r) => r.status !== 202).map((r) => r.ms).sort((a, b) => a - b);
    const median = refused[refused.length >> 1];
    const tally = (["before", "outage", "after"] as const).map((p) => `${p} ${count(p, 202)}/${count(p, 503)}`);
    console.log(
      `outage ${(startedAt - stoppedAt).toFixed(0)} ms; journal back ${
        recoveredMs.toFixed(0)
      } ms after pg_ctl start; ` +
        `refusal median ${median.toFixed(0)} ms; 202/503 ${tally.join(", ")}`,
    );
    assert(median < 2500, `refusals took ${refused.map((ms) => ms.toFixed(0)).join(", ")} ms: a refusal must be quick`);
    assertEquals(count("outage", 202), 0, "a job posted while PostgreSQL was down got a 202");
    for (const reply of replies) {
      if (reply.status === 202) continue;
      assertEquals([reply.status, reply.code], [503, 509], `job ${reply.n}: ${JSON.stringify(reply)}`);
      assert(Number(reply.retryAfter) > 0, `job ${reply.n}: 503 without Retry-After: ${JSON.stringify(reply)}`);
    }
    // Every 202 ends done with its image: those accepted just before the stop too, run again once their lease lapsed.
    const accepted = replies.filter((r) => r.status === 202);
    for (const reply of accepted) {
      const job = await waitFinished(server.base, reply.id!, 20_000);
      assertEquals(job.state, "done", `job ${reply.n} (${reply.phase}): ${JSON.stringify(job)}`);
      await assertImage(await Deno.readFile(`${dir.path}/out/${reply.n}.png`), {
        width: 60,
        height: 40,
        centre: GREEN,
      }, `job ${reply.n}`);
    }
    const log = server.output();
    assert(/cannot be reached/.test(log) && /reached again/.test(log), log);
  } finally {
    stopClients = true;
    await Promise.allSettled(clients);
    await server.stop("SIGKILL");
  }
});
