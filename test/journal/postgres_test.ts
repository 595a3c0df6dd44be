import postgres from "postgres";
import { assert, assertEquals } from "../helpers/assert.ts";
import { testDatabase } from "../fixtures/postgres.ts";
import { freePort } from "../helpers/ports.ts";
import { lostConnection, migrate, MIGRATIONS, PostgresJournal } from "../../src/journal/postgres.ts";
import type { Announcement, JobRecord } from "../../src/journal/mod.ts";

function job(id: string, owner?: string): JobRecord {
  return {
    id,
    state: "queued",
    request: {
      operationType: "resize",
      srcURL: "http://a/x.png",
      outputs: [{ dstTemplate: "file:///o.png", args: {} as never }],
    },
    outputs: [{ dstURL: "file:///o.png", width: 1, height: 1, plan: {} as never, state: "pending" }],
    attempts: 1,
    acceptedAt: Date.now(),
    ...(owner ? { owner, leaseUntil: Date.now() + 60_000 } : {}),
  };
}

async function claimAll(journal: PostgresJournal, owner: string, leaseMs = 60_000, hint = 10): Promise<string[]> {
  const ids: string[] = [];
  for await (const { record } of journal.due(owner, leaseMs, new Map(), hint)) ids.push(record.id);
  return ids;
}

Deno.test("two servers starting at once on an empty database both come up, the schema at its newest version", async () => {
  await using db = await testDatabase();
  const [a, b] = await Promise.all([0, 1].map(() => PostgresJournal.open(db.url, { keepFinishedMs: 60_000 })));
  await using _a = a;
  await using _b = b;
  const sql = postgres(db.url, { max: 1, onnotice: () => {} });
  try {
    const rows = await sql`SELECT version FROM imgserve_schema ORDER BY version`;
    assertEquals(rows.map((r) => r.version), MIGRATIONS.map((_, i) => i + 1));
  } finally {
    await sql.end();
  }
});

Deno.test("a database at the previous schema version is migrated and keeps its jobs", async () => {
  await using db = await testDatabase();
  const sql = postgres(db.url, { max: 1, onnotice: () => {} });
  try {
    assertEquals(await migrate(sql, MIGRATIONS.length - 1), MIGRATIONS.length - 1);
    const old = job("old");
    await sql`INSERT INTO imgserve_jobs (id, record, open, accepted_at) VALUES ('old', ${
      sql.json(old as never)
    }, true, 1)`;
  } finally {
    await sql.end();
  }
  await using journal = await PostgresJournal.open(db.url, { keepFinishedMs: 60_000 });
  assertEquals((await journal.get("old"))?.id, "old");
  assertEquals(await claimAll(journal, "a"), ["old"]);
});

Deno.test("concurrent claims never hand one job to two servers; an expired lease is claimed again", async () => {
  await using db = await testDatabase();
  const journals = await Promise.all(
    [0, 1, 2].map(() => PostgresJournal.open(db.url, { keepFinishedMs: 60_000 })),
  );
  try {
    for (let n = 0; n < 12; n++) await journals[0].put(job(`j${n}`));
    const claimed = await Promise.all(journals.map((j, i) => claimAll(j, `s${i}`, 300, 4)));
    const all = claimed.flat().sort();
    assertEquals(all.length, 12, JSON.stringify(claimed));
    assertEquals(new Set(all).size, 12);
    for (const ids of claimed) assert(ids.length <= 4, `at most the hint: ${ids}`);
    assertEquals(await claimAll(journals[1], "s1"), [], "nothing free while the leases hold");
    await new Promise((r) => setTimeout(r, 400));
    assertEquals((await claimAll(journals[1], "s1", 60_000, 20)).length, 12, "every lapsed lease, its own too");
  } finally {
    for (const j of journals) await j.close();
  }
});

Deno.test("a server whose lease was taken over writes nothing over the new owner", async () => {
  await using db = await testDatabase();
  await using stale = await PostgresJournal.open(db.url, { keepFinishedMs: 60_000 });
  await using fresh = await PostgresJournal.open(db.url, { keepFinishedMs: 60_000 });
  await stale.put(job("j", "stale"));
  const sql = postgres(db.url, { max: 1, onnotice: () => {} });
  try {
    await sql`UPDATE imgserve_jobs SET lease_until = 0 WHERE id = 'j'`; // the stale server paused past its lease
  } finally {
    await sql.end();
  }
  assertEquals(await claimAll(fresh, "fresh"), ["j"]);
  assert(await fresh.update("j", "fresh", { state: "running" }));
  assertEquals(await stale.update("j", "stale", { state: "failed", leaseUntil: Date.now() + 60_000 }), false);
  const now = await fresh.get("j");
  assertEquals([now?.state, now?.owner], ["running", "fresh"]);
  // Even a server that takes the job back gets a new fencing token: the old attempt's writes stay refused.
  assert(await fresh.update("j", "fresh", { state: "queued", owner: undefined, leaseUntil: undefined }));
  assertEquals(await claimAll(stale, "stale"), ["j"]);
  assert(await stale.update("j", "stale", { state: "running" }));
});

Deno.test("the claim starts a left job whose source is a local file; one to download, a cancelled one and a takeover stay queued", async () => {
  await using db = await testDatabase();
  await using journal = await PostgresJournal.open(db.url, { keepFinishedMs: 60_000 });
  const local = (id: string, owner?: string): JobRecord => {
    const record = job(id, owner);
    return { ...record, request: { ...record.request, srcURL: "file:///srv/a.png" } };
  };
  await journal.put(local("file"));
  await journal.put(job("http"));
  await journal.put(local("cancelled"));
  await journal.requestCancel("cancelled");
  await journal.put(local("taken", "dead"));
  const sql = postgres(db.url, { max: 1, onnotice: () => {} });
  try {
    await sql`UPDATE imgserve_jobs SET lease_until = 0 WHERE id = 'taken'`; // its server died
  } finally {
    await sql.end();
  }
  const before = Date.now();
  const started: Record<string, boolean> = {};
  for await (const claimed of journal.due("s", 60_000, new Map(), 10)) started[claimed.record.id] = !!claimed.started;
  assertEquals(started, { file: true, http: false, cancelled: false, taken: false });
  const states = await Promise.all(["file", "http", "cancelled", "taken"].map((id) => journal.get(id)));
  assertEquals(states.map((r) => [r?.state, r?.owner]), [
    ["running", "s"],
    ["queued", "s"],
    ["queued", "s"],
    ["queued", "s"],
  ]);
  assert(states[0]!.startedAt! >= before && states[1]!.startedAt === undefined, JSON.stringify(states[0]));
  // The claim's write took the job's new fencing token: this server's next write goes through.
  assert(await journal.update("file", "s", { state: "done", finishedAt: Date.now() }));
});

Deno.test("a job handed back is announced: a listening server is woken at once (~100 ms; 500 ms bound on a loaded machine)", async () => {
  await using db = await testDatabase();
  await using a = await PostgresJournal.open(db.url, { keepFinishedMs: 60_000 });
  await using b = await PostgresJournal.open(db.url, { keepFinishedMs: 60_000 });
  const woken = Promise.withResolvers<number>();
  b.watch(() => woken.resolve(performance.now()));
  await new Promise((r) => setTimeout(r, 300)); // LISTEN in place
  await a.put(job("j", "a"));
  const start = performance.now();
  assert(await a.update("j", "a", { owner: undefined, leaseUntil: undefined }));
  let timer: ReturnType<typeof setTimeout> | undefined;
  const at = await Promise.race([woken.promise, new Promise<number>((r) => timer = setTimeout(() => r(-1), 2000))]);
  clearTimeout(timer);
  assert(at > 0, "b was not woken");
  assert(at - start < 500, `woken after ${(at - start).toFixed(0)} ms`);
  assertEquals(await claimAll(b, "b"), ["j"]);
});

Deno.test("a job left unowned is announced with its id and whether the listener left it; its claim is announced, and only a claim asking for jobs that old takes it", async () => {
  await using db = await testDatabase();
  await using a = await PostgresJournal.open(db.url, { keepFinishedMs: 60_000 });
  await using b = await PostgresJournal.open(db.url, { keepFinishedMs: 60_000 });
  const heard: Record<string, Announcement[]> = { a: [], b: [] };
  a.watch((news) => heard.a.push(news));
  b.watch((news) => heard.b.push(news));
  await new Promise((r) => setTimeout(r, 300)); // LISTEN in place
  await a.put({ ...job("left"), acceptedAt: Date.now() - 1000 });
  await a.put(job("young"));
  const left = (id: string, own: boolean) => ({ left: { id, own } });
  const told = async (n: number) => {
    for (let waited = 0; waited < 2000 && heard.a.length + heard.b.length < n; waited += 10) {
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  await told(4);
  assertEquals(heard, { a: [left("left", true), left("young", true)], b: [left("left", false), left("young", false)] });

  const busy = new Map<string, unknown>();
  const claimed: string[] = [];
  for await (const { record } of b.due("b", 60_000, busy, 5, 500)) claimed.push(record.id);
  assertEquals(claimed, ["left"], "only the job that has waited 500 ms");
  await told(6);
  assertEquals([heard.a.at(-1), heard.b.at(-1)], [{ claimed: "left" }, { claimed: "left" }]);
});

Deno.test("a lost connection is told from a query's own error, by the driver's real errors", async () => {
  await using db = await testDatabase();
  const sql = postgres(db.url, { max: 1, onnotice: () => {} });
  const other = postgres(db.url, { max: 1, onnotice: () => {} });
  const nowhere = postgres(`postgres://u@127.0.0.1:${freePort()}/db`, { max: 1 });
  const error = (run: () => Promise<unknown>) => run().then(() => undefined, (err) => err);
  try {
    const own = await error(() => sql`SELEC 1`);
    assert(own && !lostConnection(own), `a syntax error (${own?.code}) is the query's own`);
    const [{ pid }] = await sql`SELECT pg_backend_pid() AS pid`;
    await other`SELECT pg_terminate_backend(${pid})`;
    const terminated = await error(() => sql`SELECT 1`);
    assert(terminated && lostConnection(terminated), `a terminated backend (${terminated?.code}) is a lost connection`);
    const refused = await error(() => nowhere`SELECT 1`);
    assert(refused && lostConnection(refused), `a refused connection (${refused?.code}) is a lost connection`);
  } finally {
    await sql.end({ timeout: 1 });
    await other.end({ timeout: 1 });
    await nowhere.end({ timeout: 1 });
  }
});
