/**
 * What a job costs its server in PostgreSQL statements, counted by
 * pg_stat_statements on a cluster of the test's own: each statement on a
 * job's path is a round trip (a commit, mostly) that a client waits for or
 * a worker sits idle through.
 */
import postgres from "postgres";
import { assertEquals } from "../helpers/assert.ts";
import { png, thirds } from "../helpers/images.ts";
import { spawnServer } from "../helpers/process.ts";
import { heldSource, httpServer, tempDir } from "../helpers/server.ts";
import { postJob, resizeJob } from "../helpers/jobs.ts";
import { pollUntil } from "../helpers/poll.ts";
import { dedicatedCluster } from "../fixtures/postgres.ts";

interface Statement {
  query: string;
  calls: number;
  rows: number;
}

/** The server's statements on the jobs table since the last reset, by what they do. */
function tally(statements: Statement[]) {
  const calls = (pattern: RegExp) =>
    statements.filter((s) => pattern.test(s.query)).reduce((n, s) => n + Number(s.calls), 0);
  return {
    puts: calls(/INSERT INTO imgserve_jobs/),
    // Normalized ($4) when parsed after the reset, as written (1) when a connection had prepared it before.
    holds: calls(/^SELECT (\$\d+|1) FROM imgserve_jobs WHERE id = \$\d+ AND owner/),
    writes: calls(/^UPDATE imgserve_jobs SET record/),
    // Every scan runs the claim, most find nothing: what counts is the jobs it claimed.
    claimed: statements.filter((s) => /^WITH c AS/.test(s.query)).reduce((n, s) => n + Number(s.rows), 0),
    notifies: calls(/^SELECT pg_notify/),
  };
}

Deno.test("a job costs its server 4 statements kept, 5 handed over: put (its NOTIFY in it), the claim (running in it), check before the upload, outcome, callback sent", async () => {
  await using pg = await dedicatedCluster({ statements: true });
  const sql = postgres(pg.url, { max: 1, onnotice: () => {} });
  try {
    await sql`CREATE EXTENSION pg_stat_statements`;
    await using dir = await tempDir();
    await Deno.writeFile(`${dir.path}/a.png`, await png(thirds(300, 200)));
    await using src = heldSource({ "/held.png": await png(thirds(300, 200)) });
    const told: string[] = [];
    await using hook = httpServer(async (request) => {
      told.push((await request.json()).id);
      return new Response(null, { status: 204 });
    });
    // A long lease: no renewal, and a scan every second that claims nothing unless a job waits.
    await using server = await spawnServer([
      ...["--journal", pg.url, "--file-root", dir.path, "--shared-file-roots", "--allow-private-networks"],
      ...["--lease-ms", "60000", "--workers", "1"],
    ]);
    const post = async (srcURL: string, n: number) => {
      const body = { ...resizeJob(srcURL, `file://${dir.path}/out/${n}.png`, { width: 30 }), callbackURL: hook.base };
      const { status, json } = await postJob(server.base, body);
      assertEquals(status, 202, JSON.stringify(json));
      return json.id as string;
    };
    // The callback's own write commits just after the receiver answered, and closes the job's row: once no row
    // is open, every job has made its last write.
    const counted = async () => {
      await pollUntil(async () => (await sql`SELECT 1 FROM imgserve_jobs WHERE open`).length === 0, {
        timeoutMs: 10_000,
        message: "every job's last write",
      });
      const dbid = sql`SELECT oid FROM pg_database WHERE datname = current_database()`;
      return tally(await sql<Statement[]>`SELECT query, calls, rows FROM pg_stat_statements WHERE dbid = (${dbid})`);
    };

    await sql`SELECT pg_stat_statements_reset()`;
    for (let n = 0; n < 2; n++) {
      const id = await post(`file://${dir.path}/a.png`, n);
      await pollUntil(() => told.includes(id), { timeoutMs: 15_000, message: "the job's callback" });
    }
    assertEquals(await counted(), { puts: 2, holds: 2, writes: 4, claimed: 0, notifies: 0 }, "two jobs kept");

    // The first job holds the one worker while its source trickles in: the second is left in the journal.
    await sql`SELECT pg_stat_statements_reset()`;
    const first = await post(`${src.base}/held.png`, 2);
    const second = await post(`file://${dir.path}/a.png`, 3);
    src.release();
    await pollUntil(() => told.includes(first) && told.includes(second), { timeoutMs: 15_000, message: "callbacks" });
    // The first: put, running (its source was still coming at the 202), check, outcome, callback sent; the second
    // (a file, nothing to download): put, claim (running in it), check, outcome, callback sent.
    assertEquals(
      await counted(),
      { puts: 2, holds: 2, writes: 5, claimed: 1, notifies: 0 },
      "one kept, one handed over",
    );
  } finally {
    await sql.end();
  }
});
