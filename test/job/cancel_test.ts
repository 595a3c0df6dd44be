import { assert, assertEquals } from "../helpers/assert.ts";
import { httpServer, OPEN_FLAGS, serve, tempDir } from "../helpers/server.ts";
import { jobState, spawnServer, waitFinished } from "../helpers/process.ts";
import { postJob, rasterizeJob, resizeJob } from "../helpers/jobs.ts";
import { pollUntil } from "../helpers/poll.ts";
import { blurredRects, children, coresUsed } from "../helpers/cpu.ts";

const PHOTO = "/usr/share/backgrounds/mate/nature/FreshFlower.jpg";

/** A callback receiver that keeps every delivery's body. */
function receiver() {
  const deliveries: Record<string, unknown>[] = [];
  const server = httpServer(async (req) => {
    deliveries.push(await req.json());
    return new Response(null, { status: 204 });
  });
  return { deliveries, url: `${server.base}/hook`, [Symbol.asyncDispose]: () => server[Symbol.asyncDispose]() };
}

async function request(
  base: string,
  method: string,
  path: string,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${base}${path}`, { method });
  return { status: response.status, json: await response.json() };
}

/** Until a job has ended in any state, cancelled included. */
function ended(base: string, id: string, timeoutMs = 20_000): Promise<Record<string, unknown>> {
  let last: Record<string, unknown> = {};
  return pollUntil(async () => {
    last = await jobState(base, id);
    return ["done", "failed", "cancelled"].includes(last.state as string) && last;
  }, { timeoutMs, message: () => `job ${id} ended (last seen ${JSON.stringify(last)})` });
}

Deno.test("cancelling a running SVG render kills its render process, CPU goes back to idle; the job behind it never starts", async () => {
  await using dir = await tempDir();
  await Deno.writeTextFile(`${dir.path}/slow.svg`, blurredRects());
  await using hook = receiver();
  await using imgserve = await spawnServer([
    "--workers",
    "1",
    "--render-timeout-ms",
    "120000",
    "--kv",
    ":memory:",
    ...OPEN_FLAGS,
  ]);
  const pid = imgserve.child.pid;
  const post = async (name: string) =>
    (await postJob(imgserve.base, {
      ...rasterizeJob(`file://${dir.path}/slow.svg`, `file://${dir.path}/${name}.png`),
      callbackURL: hook.url,
    })).json as { id: string };
  const running = await post("running");
  await pollUntil(
    async () => children(pid).length > 0 && (await jobState(imgserve.base, running.id)).state === "running",
    {
      message: "the slow render running in its process",
    },
  );
  const behind = await post("behind");
  const renderers = children(pid);
  await pollUntil(async () => (await coresUsed(pid, 300)) > 0.5, { timeoutMs: 20_000, message: "the render busy" });

  const queued = await request(imgserve.base, "DELETE", `/jobs/${behind.id}`);
  assertEquals(queued.status, 202, JSON.stringify(queued.json));
  assertEquals(queued.json.cancelRequested, true);
  const started = Date.now();
  assertEquals((await request(imgserve.base, "DELETE", `/jobs/${running.id}`)).status, 202);
  const cancelled = await ended(imgserve.base, running.id);
  assertEquals([cancelled.state, cancelled.code], ["cancelled", 607]);
  assert(Date.now() - started < 10_000, `cancelled after ${Date.now() - started} ms`);
  const never = await ended(imgserve.base, behind.id);
  assertEquals([never.state, never.code], ["cancelled", 607]);

  for (const renderer of renderers) assert(!children(pid).includes(renderer), `render process ${renderer} still alive`);
  let cores = Infinity;
  for (const deadline = Date.now() + 15_000; Date.now() < deadline;) {
    cores = await coresUsed(pid, 1000);
    if (cores < 0.15) break;
  }
  assert(cores < 0.15, `the server and its children still use ${cores.toFixed(2)} cores`);
  // A failed job's placeholder stays (no earlier file was there): so does a cancelled one's.
  assert((await Deno.stat(`${dir.path}/running.png`)).size > 0);

  // Each callback once, with the new state.
  await pollUntil(() => hook.deliveries.length >= 2, { message: "both callbacks" });
  await new Promise((r) => setTimeout(r, 500));
  assertEquals(hook.deliveries.map((d) => d.state), ["cancelled", "cancelled"]);
  assertEquals(new Set(hook.deliveries.map((d) => d.id)).size, 2);

  const again = await request(imgserve.base, "DELETE", `/jobs/${running.id}`);
  assertEquals([again.status, again.json.code], [409, 124]);
  const unknown = await request(imgserve.base, "DELETE", "/jobs/no-such-job");
  assertEquals([unknown.status, unknown.json.code], [404, 605]);
  // The fresh worker renders the next SVG.
  await Deno.writeTextFile(`${dir.path}/small.svg`, `<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"/>`);
  const next = (await postJob(imgserve.base, rasterizeJob(`file://${dir.path}/small.svg`, `file://${dir.path}/s.png`)))
    .json as { id: string };
  assertEquals((await waitFinished(imgserve.base, next.id, 20_000)).state, "done");
});

Deno.test("cancelling a job of two outputs after the first is delivered keeps it and puts the earlier file back at the second", async () => {
  await using dir = await tempDir();
  await Deno.writeTextFile(`${dir.path}/slow.svg`, blurredRects());
  const earlier = new TextEncoder().encode("the file that was there before");
  await Deno.writeFile(`${dir.path}/large.png`, earlier);
  await using imgserve = await serve(["--workers", "1", "--render-timeout-ms", "120000"]);
  const { status, json } = await imgserve.post({
    operationType: "rasterize",
    srcURL: `file://${dir.path}/slow.svg`,
    outputs: [
      { dstURL: `file://${dir.path}/small.png`, args: { width: 30 } },
      { dstURL: `file://${dir.path}/large.png`, args: {} },
    ],
  });
  assertEquals(status, 202, JSON.stringify(json));
  const id = json.id as string;
  await pollUntil(
    async () => ((await jobState(imgserve.base, id)).outputs as { state: string }[])[0].state === "done",
    {
      timeoutMs: 30_000,
      message: "the first output delivered",
    },
  );
  const small = await Deno.readFile(`${dir.path}/small.png`);
  assertEquals((await request(imgserve.base, "DELETE", `/jobs/${id}`)).status, 202);
  const job = await ended(imgserve.base, id);
  assertEquals([job.state, job.code], ["cancelled", 607]);
  const outputs = job.outputs as { state: string; code?: number }[];
  assertEquals(outputs.map((o) => [o.state, o.code]), [["done", undefined], ["failed", 607]]);
  assertEquals(await Deno.readFile(`${dir.path}/small.png`), small, "the delivered output stays");
  assertEquals(await Deno.readFile(`${dir.path}/large.png`), earlier, "the earlier file is back");
  assertEquals((await Array.fromAsync(Deno.readDir(dir.path))).map((e) => e.name).sort(), [
    "large.png",
    "slow.svg",
    "small.png",
  ]);
});

Deno.test("a job waiting for its retry is cancelled without starting again; retried, it runs again and is done", async () => {
  let accepting = false;
  const uploads: number[] = [];
  // The placeholder is taken, the first result refused with 503 (a passing failure: retried in ten minutes).
  await using destination = httpServer(async (req) => {
    await req.body?.cancel();
    const status = uploads.length === 0 || accepting ? 201 : 503;
    uploads.push(status);
    return new Response(null, { status });
  });
  await using dir = await tempDir();
  await Deno.copyFile(PHOTO, `${dir.path}/flower.jpg`);
  await using hook = receiver();
  await using imgserve = await serve(["--retry-base-ms", "600000"]);
  const { status, json } = await imgserve.post({
    ...resizeJob(`file://${dir.path}/flower.jpg`, `${destination.base}/flower.jpg`, { width: 120 }),
    callbackURL: hook.url,
  });
  assertEquals(status, 202, JSON.stringify(json));
  const id = json.id as string;
  const waiting = await pollUntil(async () => {
    const job = await jobState(imgserve.base, id);
    return job.state === "queued" && job.retryAt ? job : undefined;
  }, { message: "the job waiting for its retry" });
  assertEquals(waiting.code, 305);
  assertEquals(uploads, [201, 503]);

  assertEquals((await request(imgserve.base, "DELETE", `/jobs/${id}`)).status, 202);
  const cancelled = await ended(imgserve.base, id);
  assertEquals([cancelled.state, cancelled.code, cancelled.attempts], ["cancelled", 607, 2]);
  assertEquals(uploads, [201, 503], "nothing uploaded after the cancel");
  await pollUntil(() => hook.deliveries.length === 1, { message: "the callback" });

  accepting = true;
  const retried = await request(imgserve.base, "POST", `/jobs/${id}/retry`);
  assertEquals([retried.status, retried.json.state, retried.json.attempts], [202, "queued", 3]);
  const done = await ended(imgserve.base, id);
  assertEquals([done.state, done.attempts, done.code], ["done", 3, undefined]);
  assertEquals(uploads, [201, 503, 201]);
  await pollUntil(() => hook.deliveries.length === 2, { message: "the second callback" });
  assertEquals(hook.deliveries.map((d) => d.state), ["cancelled", "done"]);

  const again = await request(imgserve.base, "POST", `/jobs/${id}/retry`);
  assertEquals([again.status, again.json.code], [409, 125]);
  const listed = await request(imgserve.base, "GET", "/jobs?state=done&state=cancelled");
  assertEquals((listed.json.jobs as { id: string }[]).map((job) => job.id), [id]);
});

Deno.test("a failed job retried runs again and is done, and is no longer listed as failed", async () => {
  const uploads: number[] = [];
  let accepting = false;
  // The placeholder is taken; the result refused with 403, a permanent failure: the job fails at once.
  await using destination = httpServer(async (req) => {
    await req.body?.cancel();
    const status = uploads.length === 0 || accepting ? 201 : 403;
    uploads.push(status);
    return new Response(null, { status });
  });
  await using dir = await tempDir();
  await Deno.copyFile(PHOTO, `${dir.path}/flower.jpg`);
  await using imgserve = await serve();
  const { status, json } = await imgserve.post(
    resizeJob(`file://${dir.path}/flower.jpg`, `${destination.base}/flower.jpg`, { width: 120 }),
  );
  assertEquals(status, 202, JSON.stringify(json));
  const id = json.id as string;
  const failed = await ended(imgserve.base, id);
  assertEquals([failed.state, failed.code, failed.attempts], ["failed", 303, 1]);

  accepting = true;
  const retried = await request(imgserve.base, "POST", `/jobs/${id}/retry`);
  assertEquals([retried.status, retried.json.state, retried.json.attempts], [202, "queued", 2]);
  const done = await ended(imgserve.base, id);
  assertEquals([done.state, done.attempts, done.code], ["done", 2, undefined]);
  assertEquals(uploads.at(-1), 201, "the result arrived");
  assert(uploads.length >= 3, `uploads ${uploads}`);
  const listed = await request(imgserve.base, "GET", "/jobs?state=failed");
  assertEquals(listed.json.jobs, [], "no longer listed as failed");
});
