/**
 * Three imgserve processes on one PostgreSQL journal, one worker each, a
 * held source so the jobs overlap: any server answers for any job, a
 * killed server's jobs end done on the others, a paused one writes nothing
 * once resumed, and an unreachable database is a one-line exit 1.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { GREEN, isImage, png, thirds } from "../helpers/images.ts";
import { imgserveCli, jobState, spawnServer, waitFinished } from "../helpers/process.ts";
import { heldSource, httpServer, tempDir } from "../helpers/server.ts";
import { postJob, resizeJob } from "../helpers/jobs.ts";
import { freePort } from "../helpers/ports.ts";
import { pollUntil } from "../helpers/poll.ts";
import { testDatabase } from "../fixtures/postgres.ts";

const LEASE_MS = 1500;

function flags(url: string, dir: string, leaseMs = LEASE_MS): string[] {
  return [
    "--journal",
    url,
    "--file-root",
    dir,
    "--shared-file-roots",
    "--allow-private-networks",
    "--lease-ms",
    String(leaseMs),
    "--workers",
    "1",
    "--max-queue",
    "8",
  ];
}

async function post(base: string, body: unknown): Promise<string> {
  const { status, json } = await postJob(base, body);
  assertEquals(status, 202, JSON.stringify(json));
  return json.id as string;
}

Deno.test("three servers: jobs posted to one are read on the others; killed, its jobs end done elsewhere", async () => {
  await using db = await testDatabase();
  await using dir = await tempDir();
  const small = await png(thirds(300, 200));
  const images: Record<string, Uint8Array<ArrayBuffer>> = {};
  for (let n = 0; n < 6; n++) images[`/${n}.png`] = small;
  await using src = heldSource(images);
  const servers = await Promise.all([0, 1, 2].map(() => spawnServer(flags(db.url, dir.path))));
  const [a, b, c] = servers;
  try {
    const ids: string[] = [];
    const postImage = async (n: number) =>
      ids.push(
        await post(
          a.base,
          resizeJob(`${src.base}/${n}.png`, `file://${dir.path}/out/${n}.png`, { width: 30, height: 20 }),
        ),
      );
    // A keeps the first job for its one worker; the second is left in the journal, and NOTIFY wakes an idle server.
    await postImage(0);
    await postImage(1);
    const handedAt = performance.now();
    await pollUntil(() => src.hits.get("/1.png") === 2, {
      timeoutMs: 5000,
      intervalMs: 2,
      message: "job 1 claimed by an idle server",
    });
    const pickUpMs = performance.now() - handedAt;
    console.log(`an idle server fetched job 1's source ${pickUpMs.toFixed(0)} ms after the 202`);
    assert(
      pickUpMs < 1000,
      `picked up after ${pickUpMs.toFixed(0)} ms: NOTIFY, not the scan (bound loose: loaded machine)`,
    );
    for (let n = 2; n < 6; n++) await postImage(n);
    for (const id of ids) {
      for (const other of [b, c]) assertEquals((await jobState(other.base, id)).id, id, "readable on another server");
    }
    const killedAt = performance.now();
    assertEquals(await a.stop("SIGKILL"), 137);
    src.release();
    for (const id of ids) {
      const job = await waitFinished(b.base, id, LEASE_MS + 15_000);
      assertEquals(job.state, "done", JSON.stringify(job));
    }
    const failover = performance.now() - killedAt;
    console.log(`all 6 jobs done on the others ${failover.toFixed(0)} ms after the SIGKILL (lease ${LEASE_MS} ms)`);
    const killedLog = a.output();
    for (let n = 0; n < 6; n++) {
      assert(await isImage(await Deno.readFile(`${dir.path}/out/${n}.png`), { centre: GREEN }), `result ${n}`);
      // One fetch by the server that accepted it, one by the one that ran it (claimed or took over): none ran twice.
      // A job the killed server had claimed ahead of its busy worker was fetched by it too, then taken over.
      const claimedByKilled = new RegExp(`job claimed.*${ids[n]}`).test(killedLog) ? 1 : 0;
      assertEquals(src.hits.get(`/${n}.png`), 2 + claimedByKilled, `image ${n}`);
    }
    const logs = b.output() + c.output();
    assert(/job taken over.*from/.test(logs), `the takeover names the server it came from:\n${logs}`);
    const metrics = await (await fetch(`${b.base}/metrics`)).text();
    assert(/imgserve_journal_takeovers_total \d+/.test(metrics), metrics);
    assert(/imgserve_cluster_jobs_open 0/.test(metrics), "the cluster's queue is empty");
  } finally {
    for (const server of servers) await server.stop("SIGKILL");
  }
});

Deno.test("a server whose worker frees claims the next job left in the journal at once, not at its next scan", async () => {
  await using db = await testDatabase();
  await using dir = await tempDir();
  await Deno.writeFile(`${dir.path}/a.png`, await png(thirds(300, 200)));
  await using src = heldSource({ "/first.png": await png(thirds(300, 200)) });
  // A long lease: the scan comes every second, so a claim that waits for it leaves the worker idle that long.
  await using server = await spawnServer(flags(db.url, dir.path, 60_000));
  const first = await post(
    server.base,
    resizeJob(`${src.base}/first.png`, `file://${dir.path}/out/0.png`, { width: 30 }),
  );
  // The one worker is taken: these are journaled unowned, and only this server can claim them.
  const left: string[] = [];
  for (let n = 1; n <= 5; n++) {
    left.push(
      await post(server.base, resizeJob(`file://${dir.path}/a.png`, `file://${dir.path}/out/${n}.png`, { width: 30 })),
    );
  }
  src.release();
  const finished = [await waitFinished(server.base, first, 15_000)];
  for (const id of left) finished.push(await waitFinished(server.base, id, 15_000));
  const instant = (value: unknown) => typeof value === "number" ? value : Date.parse(String(value));
  const gaps = finished.slice(1).map((job, n) => instant(job.startedAt) - instant(finished[n].finishedAt));
  for (const job of finished) assertEquals(job.state, "done", JSON.stringify(job));
  console.log(`from one job's end to the next one's start: ${gaps.join(", ")} ms`);
  // Waiting for the scan: 0 to 1000 ms each, 2.5 s in all on average. Bound loose: a loaded machine.
  const sum = gaps.reduce((a, b) => a + b, 0);
  assert(sum < 1000, `the worker sat idle ${sum} ms between jobs: ${gaps.join(", ")} ms`);
});

Deno.test("a job's callback holds no worker: with one worker, the next job runs while the callback is unanswered", async () => {
  await using db = await testDatabase();
  await using dir = await tempDir();
  await Deno.writeFile(`${dir.path}/a.png`, await png(thirds(300, 200)));
  // The receiver holds the first callback unanswered until the test lets it go.
  const { promise: answered, resolve: answer } = Promise.withResolvers<void>();
  let held = 0;
  await using hook = httpServer(async (request) => {
    await request.body?.cancel();
    held++;
    await answered;
    return new Response(null, { status: 204 });
  });
  // A long lease: the scan comes every second, and no lease lapses during the test.
  await using server = await spawnServer(flags(db.url, dir.path, 60_000));
  try {
    const job = (n: number) => ({
      ...resizeJob(`file://${dir.path}/a.png`, `file://${dir.path}/out/${n}.png`, { width: 30 }),
      callbackURL: `${hook.base}/hook`,
    });
    const first = await post(server.base, job(0));
    await pollUntil(() => held === 1, { timeoutMs: 15_000, message: "the first job's callback arrives" });
    // Counted as the worker's while its callback hung, the first job kept the second one waiting in the journal,
    // claimable by no one, until the callback was answered or given up.
    const second = await post(server.base, job(1));
    const done = await waitFinished(server.base, second, 10_000);
    assertEquals(done.state, "done", JSON.stringify(done));
    // The job is recorded done before its callback is sent: the callback comes a moment after.
    await pollUntil(() => held === 2, {
      timeoutMs: 10_000,
      message: "the first callback is still unanswered, and the second job's has come",
    });
    assert(await isImage(await Deno.readFile(`${dir.path}/out/1.png`), { centre: GREEN }));
    answer();
    await pollUntil(
      async () => ((await jobState(server.base, first)).callback as { pending?: boolean }).pending === false,
      { timeoutMs: 5000, message: "the first callback, answered, is journaled as sent" },
    );
  } finally {
    answer(); // else the receiver's shutdown waits for the held request
  }
});

Deno.test("a server paused past its lease and resumed writes nothing over the job's new owner", async () => {
  await using db = await testDatabase();
  await using dir = await tempDir();
  // A large photo keeps the worker busy, so the server is paused mid-run and resumes with its result still to store.
  await Deno.writeFile(`${dir.path}/big.png`, await png(thirds(3000, 2000)));
  // The destination counts every PUT and keeps the last body: the stale server must add none.
  const puts: Uint8Array[] = [];
  await using dst = httpServer(async (request) => {
    if (request.method !== "PUT") return new Response(null, { status: 404 });
    puts.push(new Uint8Array(await request.arrayBuffer()));
    return new Response(null, { status: 201 });
  });
  await using a = await spawnServer(flags(db.url, dir.path));
  const id = await post(
    a.base,
    resizeJob(`file://${dir.path}/big.png`, `${dst.base}/p.png`, { width: 90, height: 60 }),
  );
  await pollUntil(async () => (await jobState(a.base, id)).state === "running", { intervalMs: 10, message: "running" });
  a.child.kill("SIGSTOP");
  try {
    await new Promise((r) => setTimeout(r, LEASE_MS + 300));
    await using b = await spawnServer(flags(db.url, dir.path));
    const done = await waitFinished(b.base, id, 30_000);
    assertEquals(done.state, "done");
    const putsByNewOwner = puts.length;
    a.child.kill("SIGCONT");
    // The paused server's worker finishes its image now: it must store and journal nothing.
    await new Promise((r) => setTimeout(r, 4000));
    assertEquals(
      puts.length,
      putsByNewOwner,
      `the resumed server uploaded over the new owner's result:\n${a.output()}`,
    );
    const after = await jobState(b.base, id);
    assertEquals([after.state, after.attempts, after.finishedAt], [done.state, done.attempts, done.finishedAt]);
    assert(await isImage(puts.at(-1)!, { centre: GREEN }), "the last upload is the result");
  } finally {
    a.child.kill("SIGCONT");
  }
});

Deno.test("PostgreSQL unreachable at start: one line naming --journal, exit 1", async () => {
  const port = freePort();
  const { code, out: output } = await imgserveCli([
    "run",
    "--port",
    "0",
    "--journal",
    `postgres://u:secret@127.0.0.1:${port}/db`,
  ]);
  assertEquals(code, 1, output);
  const lines = output.trim().split("\n");
  assertEquals(lines.length, 1, output);
  assert(lines[0].includes("--journal postgres://u:***@127.0.0.1"), output);
});

/** A TCP forwarder to the cluster that the test can cut and restore: PostgreSQL lost for this server only. */
function cuttableLink(target: number) {
  const port = freePort();
  const conns = new Set<Deno.Conn>();
  let listener: Deno.Listener | undefined;
  const serve = (l: Deno.Listener) =>
    (async () => {
      for await (const conn of l) {
        Deno.connect({ hostname: "127.0.0.1", port: target }).then((upstream) => {
          conns.add(conn).add(upstream);
          const end = () => {
            for (const c of [conn, upstream]) {
              conns.delete(c);
              try {
                c.close();
              } catch { /* closed already */ }
            }
          };
          conn.readable.pipeTo(upstream.writable).catch(() => {}).finally(end);
          upstream.readable.pipeTo(conn.writable).catch(() => {}).finally(end);
        }, () => conn.close());
      }
    })().catch(() => {});
  const up = () => {
    listener = Deno.listen({ hostname: "127.0.0.1", port });
    serve(listener);
  };
  const cut = () => {
    listener?.close();
    listener = undefined;
    for (const c of conns) {
      try {
        c.close();
      } catch { /* closed already */ }
    }
    conns.clear();
  };
  up();
  return { port, cut, up, [Symbol.dispose]: cut };
}

Deno.test("PostgreSQL lost while running: new jobs get 503 code 509, /healthz says so, the server reconnects by itself, and the job in flight is not lost", async () => {
  await using db = await testDatabase();
  await using dir = await tempDir();
  await Deno.writeFile(`${dir.path}/a.png`, await png(thirds(300, 200)));
  await using src = heldSource({ "/held.png": await png(thirds(300, 200)) });
  using link = cuttableLink(db.port);
  const url = db.url.replace(`:${db.port}/`, `:${link.port}/`);
  await using server = await spawnServer(flags(url, dir.path));
  const job = (n: number) => resizeJob(`file://${dir.path}/a.png`, `file://${dir.path}/out/${n}.png`, { width: 30 });
  const before = await post(server.base, job(0));
  assertEquals((await waitFinished(server.base, before, 15_000)).state, "done");
  // Accepted, and waiting for its source while the database goes away.
  const inFlight = await post(
    server.base,
    resizeJob(`${src.base}/held.png`, `file://${dir.path}/out/held.png`, { width: 30 }),
  );
  link.cut();
  src.release();
  const { status, json } = await postJob(server.base, job(1));
  assertEquals([status, json.code], [503, 509], JSON.stringify(json));
  const health = await fetch(`${server.base}/healthz`);
  const body = await health.json();
  assertEquals([health.status, body.journal], [503, false]);
  link.up();
  const after = await pollUntil(async () => {
    const { status, json } = await postJob(server.base, job(2));
    return status === 202 && (json.id as string);
  }, { timeoutMs: 15_000, intervalMs: 200, message: "a job accepted after the link is back" });
  assertEquals((await waitFinished(server.base, after, 15_000)).state, "done");
  assert(await isImage(await Deno.readFile(`${dir.path}/out/2.png`), { centre: GREEN }));
  // Its progress could not be written, so it runs again once its lease lapses.
  const flown = await waitFinished(server.base, inFlight, 20_000);
  assertEquals(flown.state, "done", JSON.stringify(flown));
  assert(await isImage(await Deno.readFile(`${dir.path}/out/held.png`), { centre: GREEN }));
  assert(/cannot be reached/.test(server.output()) && /reached again/.test(server.output()), server.output());
});

Deno.test("--journal with --file-root but without --shared-file-roots: one line, exit 1", async () => {
  await using dir = await tempDir();
  const url = "postgres://u@127.0.0.1:1/db"; // refused before the journal is opened
  const { code, out } = await imgserveCli(["run", "--port", "0", "--journal", url, "--file-root", dir.path]);
  assertEquals(code, 1, out);
  assertEquals(out.trim().split("\n").length, 1, out);
  assert(out.includes("--shared-file-roots"), out);
});
