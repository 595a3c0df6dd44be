/**
 * The journal's own time per job, without images: the calls a one-output
 * job makes, in the order the job's steps make them, timed one job after
 * another on the embedded KV journal and on PostgreSQL.
 *
 * - kept: accepted by a server with a free worker: put (owned), holds
 *   before the upload, the final update in the outcome.
 * - handed over: accepted by a busy server and claimed by another: put
 *   (unowned, NOTIFY in the same statement), the claim (which journals a
 *   job whose source needs no download as running), holds and the final
 *   update.
 *
 * @module
 */
import type { JobRecord, Journal } from "../src/journal/mod.ts";

const OWNER = "bench-owner";
const LEASE_MS = 15_000;

function record(owned: boolean): JobRecord {
  const now = Date.now();
  return {
    id: crypto.randomUUID(),
    state: owned ? "running" : "queued",
    startedAt: owned ? now : undefined,
    outputs: [],
    request: { operationType: "resize", srcURL: "file:///srv/a.jpg", outputs: [] },
    attempts: 1,
    acceptedAt: now,
    owner: owned ? OWNER : undefined,
    leaseUntil: owned ? now + LEASE_MS : undefined,
  };
}

async function finish(journal: Journal, id: string): Promise<void> {
  if (!(await journal.holds(id, OWNER))) throw new Error("lost the job in the deliver step");
  if (!(await journal.update(id, OWNER, { state: "done", finishedAt: Date.now() }))) throw new Error("lost it");
}

async function kept(journal: Journal): Promise<void> {
  const job = record(true);
  await journal.put(job);
  await finish(journal, job.id);
}

async function handedOver(journal: Journal): Promise<void> {
  const job = record(false);
  await journal.put(job);
  for await (const { record, started } of journal.due(OWNER, LEASE_MS, new Map(), 1)) {
    if (!started) await journal.update(record.id, OWNER, { state: "running", startedAt: Date.now() });
    await finish(journal, record.id);
  }
}

/** Mean ms per job of `count` jobs in a row, after 20 not counted; `handed` for the hand-over path. */
export async function journalMsPerJob(journal: Journal, count: number, handed = false): Promise<number> {
  const one = handed ? handedOver : kept;
  for (let n = 0; n < 20; n++) await one(journal);
  const start = performance.now();
  for (let n = 0; n < count; n++) await one(journal);
  return (performance.now() - start) / count;
}
