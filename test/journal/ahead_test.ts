/**
 * The claim ahead on a shared PostgreSQL journal: a server whose one
 * worker is busy claims one job that has waited unowned, to start it the
 * moment its running task ends, and an idle server still gets a job
 * before a busy one does.
 */
import postgres from "postgres";
import { assertEquals } from "../helpers/assert.ts";
import { assertImage, GREEN, png, thirds } from "../helpers/images.ts";
import { jobState, spawnServer, waitFinished } from "../helpers/process.ts";
import { tempDir } from "../helpers/server.ts";
import { postJob, resizeJob } from "../helpers/jobs.ts";
import { pollUntil } from "../helpers/poll.ts";
import { blurredRects } from "../helpers/cpu.ts";
import { testDatabase } from "../fixtures/postgres.ts";

function flags(url: string, dir: string): string[] {
  return [
    ...["--journal", url, "--file-root", dir, "--shared-file-roots", "--lease-ms", "1500"],
    ...["--workers", "1", "--render-timeout-ms", "120000"],
  ];
}

async function post(base: string, body: unknown): Promise<string> {
  const { status, json } = await postJob(base, body);
  assertEquals(status, 202, JSON.stringify(json));
  return json.id as string;
}

/** Posts a render that keeps the server's one worker busy for minutes, and waits until it runs. */
async function occupy(base: string, dir: string): Promise<string> {
  await Deno.writeTextFile(`${dir}/slow.svg`, blurredRects());
  const id = await post(base, {
    operationType: "rasterize",
    srcURL: `file://${dir}/slow.svg`,
    dstURL: `file://${dir}/slow.png`,
    args: {},
  });
  await pollUntil(async () => (await (await fetch(`${base}/healthz`)).json()).busy === 1, {
    message: "the slow render holding the worker",
  });
  return id;
}

/** Cancels the slow render, so no render process outlives the test. */
async function end(base: string, id: string): Promise<void> {
  const response = await fetch(`${base}/jobs/${id}`, { method: "DELETE" });
  await response.body?.cancel();
  await pollUntil(async () => (await jobState(base, id)).state === "cancelled", {
    timeoutMs: 15_000,
    message: "the slow render cancelled",
  });
}

Deno.test("a busy server claims one job ahead of its worker, a cancel ends it, and both queued jobs finish after the running one", async () => {
  await using db = await testDatabase();
  await using dir = await tempDir();
  await Deno.writeFile(`${dir.path}/a.png`, await png(thirds(300, 200)));
  const sql = postgres(db.url, { max: 1, onnotice: () => {} });
  try {
    await using a = await spawnServer(flags(db.url, dir.path));
    const slow = await occupy(a.base, dir.path);
    const job = (n: number) => resizeJob(`file://${dir.path}/a.png`, `file://${dir.path}/out/${n}.png`, { width: 30 });
    const [cancelled, second, third] = [
      await post(a.base, job(1)),
      await post(a.base, job(2)),
      await post(a.base, job(3)),
    ];
    const owner = async (id: string) => (await sql`SELECT owner FROM imgserve_jobs WHERE id = ${id}`)[0]?.owner;
    await pollUntil(async () => await owner(cancelled), { timeoutMs: 5000, message: "the first job claimed ahead" });
    // One job ahead per worker: the others stay in the journal for any server that frees a worker.
    await new Promise((r) => setTimeout(r, 300));
    assertEquals([await owner(second), await owner(third)], [null, null], "one job ahead, no more");
    assertEquals((await jobState(a.base, slow)).state, "running", "the render still holds the worker");

    const response = await fetch(`${a.base}/jobs/${cancelled}`, { method: "DELETE" });
    assertEquals(response.status, 202, await response.text());
    await pollUntil(async () => (await jobState(a.base, cancelled)).state === "cancelled", {
      timeoutMs: 5000,
      message: "the job ahead cancelled while the render runs",
    });
    await pollUntil(async () => await owner(second), { timeoutMs: 5000, message: "the next job claimed ahead" });
    assertEquals(await owner(third), null, "still one ahead");

    await end(a.base, slow);
    for (const id of [second, third]) assertEquals((await waitFinished(a.base, id, 20_000)).state, "done");
    for (const n of [2, 3]) {
      await assertImage(
        await Deno.readFile(`${dir.path}/out/${n}.png`),
        { width: 30, height: 20, centre: GREEN },
        `output ${n}`,
      );
    }
  } finally {
    await sql.end();
  }
});

Deno.test("an idle server is not kept waiting behind a busy one's claim ahead: jobs posted to the busy server end on the idle one", async () => {
  await using db = await testDatabase();
  await using dir = await tempDir();
  await Deno.writeFile(`${dir.path}/a.png`, await png(thirds(300, 200)));
  await using a = await spawnServer(flags(db.url, dir.path));
  await using b = await spawnServer(flags(db.url, dir.path));
  const slow = await occupy(a.base, dir.path);
  try {
    // One after another, so b is idle each time: each job is a's to claim ahead only if b left it waiting.
    for (let n = 0; n < 3; n++) {
      const postedAt = performance.now();
      const id = await post(
        a.base,
        resizeJob(`file://${dir.path}/a.png`, `file://${dir.path}/out/${n}.png`, { width: 30 }),
      );
      assertEquals((await waitFinished(b.base, id, 10_000)).state, "done", "ended on b: a's worker is rendering");
      console.log(
        `job ${n} posted to the busy server, done on the idle one after ${
          (performance.now() - postedAt).toFixed(0)
        } ms`,
      );
      await assertImage(
        await Deno.readFile(`${dir.path}/out/${n}.png`),
        { width: 30, height: 20, centre: GREEN },
        `output ${n}`,
      );
    }
    assertEquals((await jobState(b.base, slow)).state, "running", "a's worker held the render throughout");
  } finally {
    await end(a.base, slow);
  }
});
