import { assert, assertEquals } from "../helpers/assert.ts";
import { decode, GREEN, isImage, near, painted, pixel, png, thirds } from "../helpers/images.ts";
import { jobState, spawnServer, waitFinished } from "../helpers/process.ts";
import { heldSource, httpServer, serve, tempDir } from "../helpers/server.ts";
import { postJob, resizeJob } from "../helpers/jobs.ts";
import { pollUntil } from "../helpers/poll.ts";
import { freePort } from "../helpers/ports.ts";
import { journalFlags, testJournalIsPostgres } from "../fixtures/postgres.ts";

function flags(dir: string, more: string[] = []): string[] {
  return [...journalFlags(dir), "--file-root", dir, "--allow-private-networks", "--lease-ms", "1000", ...more];
}

async function post(base: string, body: unknown): Promise<Record<string, unknown>> {
  const { status, json } = await postJob(base, body);
  assertEquals(status, 202, JSON.stringify(json));
  return json;
}

/** Whether a result file is the real image (thirds: green centre), not the grey placeholder. */
async function isResult(path: string): Promise<boolean> {
  return await isImage(await Deno.readFile(path), { centre: GREEN });
}

Deno.test("SIGKILL with jobs queued and running: after a restart every accepted job ends done with its image", async () => {
  await using dir = await tempDir();
  // A large image keeps the one worker busy long enough to be killed mid-run.
  await Deno.writeFile(`${dir.path}/big.png`, await png(thirds(3000, 2000)));
  const small = await png(thirds(300, 200));
  await using src = heldSource({ "/1.png": small, "/2.png": small, "/3.png": small });
  const ids: string[] = [];
  {
    await using first = await spawnServer(flags(dir.path, ["--workers", "1"]));
    const running = await post(
      first.base,
      resizeJob(`file://${dir.path}/big.png`, `file://${dir.path}/out/big.png`, { width: 90, height: 60 }),
    );
    ids.push(running.id as string);
    for (const n of [1, 2, 3]) {
      const queued = await post(
        first.base,
        resizeJob(`${src.base}/${n}.png`, `file://${dir.path}/out/${n}.png`, { width: 90, height: 60 }),
      );
      ids.push(queued.id as string);
    }
    await pollUntil(async () => (await jobState(first.base, ids[0])).state === "running", {
      intervalMs: 10,
      message: "the big job running",
    });
    assertEquals((await jobState(first.base, ids[1])).state, "queued");
    assertEquals(await first.stop("SIGKILL"), 137);
  }
  for (const n of [1, 2, 3]) {
    assert(!(await isResult(`${dir.path}/out/${n}.png`)), "placeholder expected before restart");
  }
  src.release();
  await using second = await spawnServer(flags(dir.path, ["--workers", "1"]));
  for (const id of ids) {
    const job = await waitFinished(second.base, id);
    assertEquals(job.state, "done", JSON.stringify(job));
    // On a shared journal the queued jobs were left unowned for an idle server: their first attempt is the one after.
    const ran = testJournalIsPostgres && id !== ids[0] ? 1 : 2;
    assert((job.attempts as number) >= ran, `attempts ${job.attempts}`);
  }
  for (const name of ["big", "1", "2", "3"]) assert(await isResult(`${dir.path}/out/${name}.png`), name);
});

Deno.test("two servers on one journal file never process one job twice", async () => {
  await using dir = await tempDir();
  const small = await png(thirds(300, 200));
  const images: Record<string, Uint8Array<ArrayBuffer>> = {};
  for (let n = 0; n < 8; n++) images[`/${n}.png`] = small;
  await using src = heldSource(images);
  const ids: string[] = [];
  {
    await using first = await spawnServer(flags(dir.path));
    for (let n = 0; n < 8; n++) {
      const job = await post(
        first.base,
        resizeJob(`${src.base}/${n}.png`, `file://${dir.path}/out/${n}.png`, { width: 30, height: 20 }),
      );
      ids.push(job.id as string);
    }
    await first.stop("SIGKILL");
  }
  src.release();
  await using b = await spawnServer(flags(dir.path));
  await using c = await spawnServer(flags(dir.path));
  for (const id of ids) {
    const status = await waitFinished(b.base, id);
    assertEquals(status.state, "done", JSON.stringify(status));
  }
  // One fetch when the first server accepted the job, exactly one more by whichever server took it over.
  for (let n = 0; n < 8; n++) assertEquals(src.hits.get(`/${n}.png`), 2, `image ${n}`);
  for (let n = 0; n < 8; n++) assert(await isResult(`${dir.path}/out/${n}.png`));
  assert(
    b.output().includes("job taken over") || c.output().includes("job taken over"),
    "the log says which took it over",
  );
});

Deno.test("a destination that fails twice and then works gets the image after retries", async () => {
  await using dir = await tempDir();
  await Deno.writeFile(`${dir.path}/a.png`, await png(thirds(300, 200)));
  let puts = 0;
  let stored: Uint8Array | undefined;
  await using dst = httpServer(async (req) => {
    puts++;
    const body = new Uint8Array(await req.arrayBuffer());
    if (puts === 2 || puts === 3) return new Response("busy", { status: 503 });
    stored = body;
    return new Response(null, { status: 201 });
  });
  await using imgserve = await serve(["--retry-base-ms", "50"]);
  const reply = await imgserve.post(
    resizeJob(`file://${dir.path}/a.png`, `${dst.base}/dav/a.png`, { width: 90, height: 60 }),
  );
  assertEquals(reply.status, 202);
  const job = await imgserve.finished(reply.json.id as string);
  assertEquals([job.state, job.attempts, puts], ["done", 3, 4]);
  const image = await decode(stored!);
  assertEquals([image.width, image.height], [90, 60]);
  assert(near(pixel(image, 45, 30), GREEN));
  const metrics = await (await fetch(`${imgserve.base}/metrics`)).text();
  assert(/imgserve_retries_total 2/.test(metrics), metrics);
});

Deno.test("a destination that keeps failing fails the job after --max-attempts with the last error", async () => {
  await using dir = await tempDir();
  await Deno.writeFile(`${dir.path}/a.png`, await png(thirds(30, 20)));
  let puts = 0;
  await using dst = httpServer(async (req) => {
    await req.body?.cancel();
    return ++puts === 1 ? new Response(null, { status: 201 }) : new Response("down", { status: 502 });
  });
  await using imgserve = await serve(["--retry-base-ms", "20", "--max-attempts", "3"]);
  const reply = await imgserve.post(resizeJob(`file://${dir.path}/a.png`, `${dst.base}/a.png`, { width: 9 }));
  const job = await imgserve.finished(reply.json.id as string);
  assertEquals([job.state, job.attempts, job.code, puts], ["failed", 3, 305, 4]);
});

Deno.test("callbacks arrive with the outcome; a dead callback endpoint holds up no other job", async () => {
  await using dir = await tempDir();
  await Deno.writeFile(`${dir.path}/a.png`, await png(thirds(60, 40)));
  await Deno.writeFile(`${dir.path}/bad.png`, (await png(thirds(60, 40))).slice(0, 80));
  const received: Record<string, unknown>[] = [];
  const { promise: two, resolve } = Promise.withResolvers<void>();
  await using hook = httpServer(async (req) => {
    received.push(await req.json());
    if (received.length === 2) resolve();
    return new Response(null, { status: 204 });
  });
  const deadPort = freePort();
  await using imgserve = await serve(["--retry-base-ms", "5000"]);
  const job = (src: string, dst: string, callbackURL: string) =>
    imgserve.post({
      ...resizeJob(`file://${dir.path}/${src}`, `file://${dir.path}/${dst}`, { width: 30 }),
      callbackURL,
    });
  const dead = await job("a.png", "dead.png", `http://127.0.0.1:${deadPort}/hook`);
  const ok = await job("a.png", "ok.png", `${hook.base}/hook`);
  const bad = await job("bad.png", "bad-out.png", `${hook.base}/hook`);
  await two;
  const byId = Object.fromEntries(received.map((r) => [r.id, r]));
  assertEquals(byId[ok.json.id as string], {
    id: ok.json.id,
    state: "done",
    dstURL: `file://${dir.path}/ok.png`,
    width: 30,
    height: 20,
  });
  const failed = byId[bad.json.id as string];
  // A cut PNG: damaged, 606.
  assertEquals([failed.state, failed.code], ["failed", 606]);
  assert(typeof failed.error === "string");
  const pending = await imgserve.finished(dead.json.id as string);
  assertEquals(pending.state, "done");
  const callback = pending.callback as { pending: boolean; attempts: number; lastError: string };
  assert(callback.pending && callback.attempts >= 1 && callback.lastError.length > 0, JSON.stringify(callback));
});

Deno.test("SIGTERM lets running jobs finish, refuses new ones, exits 0 and loses nothing", async () => {
  await using dir = await tempDir();
  const small = await png(thirds(300, 200));
  await using src = heldSource({ "/a.png": small, "/b.png": small });
  const first = await spawnServer(flags(dir.path, ["--grace-ms", "20000"]));
  const finishing = await post(
    first.base,
    resizeJob(`${src.base}/a.png`, `file://${dir.path}/a.png`, { width: 90, height: 60 }),
  );
  first.child.kill("SIGTERM");
  // The server answers no new work while it drains.
  let refused: Response | undefined;
  while (!refused) {
    const response = await fetch(`${first.base}/`, { method: "POST", body: "{}" });
    if (response.status === 503) refused = response;
    else await response.body?.cancel();
  }
  assertEquals((await refused.json()).code, 506);
  src.release();
  assertEquals(await first.stop("SIGTERM"), 0);
  assert(await isResult(`${dir.path}/a.png`));

  await using src2 = heldSource({ "/c.png": small });
  const second = await spawnServer(flags(dir.path, ["--grace-ms", "100"]));
  const unfinished = await post(
    second.base,
    resizeJob(`${src2.base}/c.png`, `file://${dir.path}/c.png`, { width: 90, height: 60 }),
  );
  assertEquals(await second.stop("SIGTERM"), 0);
  assert(!(await isResult(`${dir.path}/c.png`)));
  src2.release();
  await using third = await spawnServer(flags(dir.path));
  assertEquals((await waitFinished(third.base, finishing.id as string)).state, "done");
  assertEquals((await waitFinished(third.base, unfinished.id as string)).state, "done");
  assert(await isResult(`${dir.path}/c.png`));
});

Deno.test("/metrics reports requests by outcome, jobs by state and the queue", async () => {
  await using dir = await tempDir();
  await Deno.writeFile(`${dir.path}/a.png`, await png(painted(20, 20, () => GREEN)));
  await using imgserve = await serve();
  const ok = await imgserve.post(resizeJob(`file://${dir.path}/a.png`, `file://${dir.path}/b.png`, { width: 5 }));
  await imgserve.finished(ok.json.id as string);
  await imgserve.post(resizeJob(`file://${dir.path}/none.png`, `file://${dir.path}/b.png`, { width: 5 }));
  await imgserve.post("nope");
  const response = await fetch(`${imgserve.base}/metrics`);
  assert(response.headers.get("content-type")!.startsWith("text/plain"));
  const text = await response.text();
  for (
    const line of [
      'imgserve_requests_total{outcome="accepted"} 1',
      'imgserve_requests_total{outcome="202"} 1',
      'imgserve_requests_total{outcome="parse_error"} 1',
      'imgserve_jobs_finished_total{state="done"} 1',
      "imgserve_job_duration_seconds_count 1",
      "imgserve_reply_latency_seconds_count 1",
      "imgserve_queue_length 0",
      "imgserve_workers 2",
    ]
  ) assert(text.includes(line), `${line} missing from\n${text}`);
  const health = await (await fetch(`${imgserve.base}/healthz`)).json();
  assertEquals(health.journal, true);
});
