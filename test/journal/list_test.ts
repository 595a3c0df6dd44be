import { assert, assertEquals } from "../helpers/assert.ts";
import type { JobRecord, JobState, Journal } from "../../src/journal/mod.ts";
import { KvJournal } from "../../src/journal/kv.ts";
import { PostgresJournal } from "../../src/journal/postgres.ts";
import { testDatabase } from "../fixtures/postgres.ts";
import { jobRecord } from "../helpers/records.ts";

function record(id: string, acceptedAt: number, state: JobState = "done"): JobRecord {
  return jobRecord(id, { acceptedAt, state });
}

/** Every page of a query, following the cursor, at most `maxPages`. */
async function pageThrough(journal: Journal, query: Omit<Parameters<Journal["list"]>[0], "after">, maxPages = 100) {
  const ids: string[] = [];
  let after;
  for (let page = 0; page < maxPages; page++) {
    const { records, next } = await journal.list({ ...query, ...(after ? { after } : {}) });
    ids.push(...records.map((r) => r.id));
    if (!next) return ids;
    after = next;
  }
  throw new Error(`more than ${maxPages} pages`);
}

/** What both journals must list alike: 30 jobs over three states, two at one time (ties go by id). */
async function listsLikeAClient(journal: Journal): Promise<void> {
  const states: JobState[] = ["done", "failed", "queued"];
  for (let i = 0; i < 30; i++) {
    // Jobs 10 and 11 share an accepted time: the order between them is the id's.
    await journal.put(record(`job-${String(i).padStart(2, "0")}`, 1_000_000 + (i === 11 ? 10 : i), states[i % 3]));
  }
  const all = await pageThrough(journal, { limit: 7 });
  const expected = Array.from({ length: 30 }, (_, i) => `job-${String(29 - i).padStart(2, "0")}`);
  assertEquals(all, expected, "newest first, every job once across pages");

  const failedOrQueued = await pageThrough(journal, { limit: 4, states: ["failed", "queued"] });
  assertEquals(failedOrQueued, expected.filter((id) => Number(id.slice(4)) % 3 !== 0));

  const since = await pageThrough(journal, { limit: 100, since: 1_000_020 });
  assertEquals(since, expected.slice(0, 10));

  // A job changing state moves between the state lists.
  const owner = "me";
  await journal.put({ ...record("job-late", 1_000_100, "queued"), owner, leaseUntil: Date.now() + 60_000 });
  assertEquals((await journal.list({ limit: 1, states: ["queued"] })).records[0].id, "job-late");
  assert(await journal.update("job-late", owner, { state: "failed", finishedAt: Date.now() }));
  assertEquals((await journal.list({ limit: 1, states: ["queued"] })).records[0].id, "job-29");
  assertEquals((await journal.list({ limit: 1, states: ["failed"] })).records[0].id, "job-late");
}

Deno.test("10,000 finished jobs in the KV journal are paged through, 500 a page, in bounded time", async () => {
  await using journal = await KvJournal.open(":memory:", 86_400_000);
  const base = Date.now() - 100_000;
  for (let i = 0; i < 10_000; i += 100) {
    await Promise.all(Array.from({ length: 100 }, (_, k) => journal.put(record(`j${i + k}`, base + i + k))));
  }
  const started = performance.now();
  const ids = await pageThrough(journal, { limit: 500 }, 30);
  const allMs = performance.now() - started;
  assertEquals(ids.length, 10_000);
  assertEquals(new Set(ids).size, 10_000);
  assertEquals(ids[0], "j9999");
  assertEquals(ids.at(-1), "j0");
  // One page deep in the list costs what the first does: the index is read from the cursor on, not scanned.
  const { next } = await journal.list({ limit: 500, after: { acceptedAt: base + 500, id: "j500" } });
  const deep = performance.now();
  await journal.list({ limit: 50, after: { acceptedAt: base + 600, id: "j600" } });
  const deepMs = performance.now() - deep;
  const first = performance.now();
  await journal.list({ limit: 50 });
  const firstMs = performance.now() - first;
  assertEquals(next, undefined);
  console.log(
    `10,000 jobs in 20 pages: ${allMs.toFixed(0)} ms; a page of 50 near the end ${deepMs.toFixed(1)} ms, at the start ${
      firstMs.toFixed(1)
    } ms`,
  );
  assert(allMs < 20_000, `paging took ${allMs.toFixed(0)} ms`);
  assert(deepMs < 2_000, `a deep page took ${deepMs.toFixed(0)} ms`);
});

/** Ten callers binding one key at once: exactly one holds it, the others see its digest. */
async function bindsOnce(journal: Journal): Promise<void> {
  const bound = await Promise.all(Array.from({ length: 10 }, () => journal.reserveKey("k", "d1", 60_000)));
  assertEquals(bound.filter((entry) => entry === undefined).length, 1);
  assert(bound.every((entry) => !entry || entry.digest === "d1"));
  await journal.completeKey("k", { status: 202, body: { id: "x" } });
  assertEquals(await journal.reserveKey("k", "d2", 60_000), {
    digest: "d1",
    reply: { status: 202, body: { id: "x" } },
  });
  await journal.releaseKey("k");
  assertEquals(await journal.reserveKey("k", "d2", 60_000), undefined, "a released key is free");
}

/** Cancel flags and reopening, alike in both journals. */
async function cancelsAndReopens(journal: Journal): Promise<void> {
  const claimed = async (owner: string) => {
    const ids: string[] = [];
    for await (const { record } of journal.due(owner, 60_000, new Map(), 10)) ids.push(record.id);
    return ids;
  };
  // Held by server a: the flag reaches it with its next write (a lease renewal).
  await journal.put({ ...record("held", 1, "running"), owner: "a", leaseUntil: Date.now() + 60_000 });
  assertEquals((await journal.requestCancel("held"))?.cancelRequested, true);
  assertEquals(journal.cancelRequested("held"), false, "not seen before a write");
  assert(await journal.update("held", "a", { leaseUntil: Date.now() + 60_000 }));
  assertEquals(journal.cancelRequested("held"), true);
  assertEquals(await claimed("b"), [], "a job held by a live lease is not taken for its cancel");

  // Waiting for a retry an hour away: cancelled, it is due at once.
  await journal.put({ ...record("waiting", 2, "queued"), retryAt: Date.now() + 3_600_000 });
  assertEquals(await claimed("b"), []);
  await journal.requestCancel("waiting");
  assertEquals(await claimed("b"), ["waiting"]);
  assert(await journal.update("waiting", "b", { state: "cancelled", finishedAt: Date.now() }));
  assertEquals((await journal.requestCancel("waiting"))?.state, "cancelled", "an ended job is not flagged");
  assertEquals(await journal.requestCancel("unknown"), undefined);

  // Reopened: queued, held by nobody, due, and listed as queued again.
  const reopened = await journal.reopen("waiting", { attempts: 2, retryAt: Date.now(), cancelRequested: undefined });
  assertEquals([reopened?.state, reopened?.attempts, reopened?.cancelRequested], ["queued", 2, undefined]);
  assertEquals((await journal.list({ limit: 10, states: ["queued"] })).records.map((r) => r.id), ["waiting"]);
  assertEquals(await claimed("c"), ["waiting"]);
  assertEquals((await journal.reopen("held", {}))?.state, "running", "only failed or cancelled jobs reopen");
}

/** Runs `check` as a test on each journal: Deno KV in memory, and PostgreSQL on a database of its own. */
function onBothJournals(behaviour: string, check: (journal: Journal) => Promise<void>): void {
  Deno.test(`the KV journal ${behaviour}`, async () => {
    await using journal = await KvJournal.open(":memory:", 86_400_000);
    await check(journal);
  });
  Deno.test(`the PostgreSQL journal ${behaviour}`, async () => {
    await using db = await testDatabase();
    await using journal = await PostgresJournal.open(db.url, { keepFinishedMs: 86_400_000 });
    await check(journal);
  });
}

onBothJournals("lists jobs newest first, by state and since, across pages", listsLikeAClient);
onBothJournals("binds an Idempotency-Key once among simultaneous requests", bindsOnce);
onBothJournals("flags cancels for the owner, makes a waiting job due, and reopens a cancelled one", cancelsAndReopens);
