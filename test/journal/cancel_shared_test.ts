/**
 * Cancel through a shared PostgreSQL journal: the request reaches another
 * server than the one running the job.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { tempDir } from "../helpers/server.ts";
import { jobState, postJob } from "../helpers/jobs.ts";
import { spawnServer } from "../helpers/process.ts";
import { pollUntil } from "../helpers/poll.ts";
import { blurredRects } from "../helpers/cpu.ts";
import { testDatabase } from "../fixtures/postgres.ts";

Deno.test("a job running on one server is cancelled by a DELETE sent to another: the owner sees it at its lease renewal", async () => {
  await using db = await testDatabase();
  await using dir = await tempDir();
  await Deno.writeTextFile(`${dir.path}/slow.svg`, blurredRects());
  const flags = ["--journal", db.url, "--file-root", dir.path, "--shared-file-roots", "--lease-ms", "1500"];
  await using a = await spawnServer([...flags, "--workers", "1", "--render-timeout-ms", "120000"]);
  await using b = await spawnServer([...flags, "--workers", "1"]);
  const { status, json } = await postJob(a.base, {
    operationType: "rasterize",
    srcURL: `file://${dir.path}/slow.svg`,
    dstURL: `file://${dir.path}/slow.png`,
    args: {},
  });
  assertEquals(status, 202, JSON.stringify(json));
  const id = json.id as string;
  await pollUntil(async () => (await jobState(b.base, id)).state === "running", { message: "running on a" });
  const busy = await (await fetch(`${a.base}/healthz`)).json();
  assertEquals(busy.busy, 1, "a's worker renders it");

  const started = Date.now();
  const cancel = await fetch(`${b.base}/jobs/${id}`, { method: "DELETE" });
  assertEquals(cancel.status, 202, await cancel.text());
  const job = await pollUntil(async () => {
    const seen = await jobState(b.base, id);
    return seen.state === "cancelled" ? seen : undefined;
  }, { timeoutMs: 15_000, message: "cancelled" });
  const tookMs = Date.now() - started;
  console.log(`cancelled on the other server after ${tookMs} ms (lease 1500 ms, renewed every 500 ms)`);
  assertEquals(job.code, 607);
  assert(tookMs < 10_000, `took ${tookMs} ms`);
  await pollUntil(async () => (await (await fetch(`${a.base}/healthz`)).json()).busy === 0, {
    message: "a's worker free again",
  });
});
