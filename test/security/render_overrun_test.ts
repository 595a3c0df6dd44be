import { assert, assertEquals } from "../helpers/assert.ts";
import { assertHealthy, OPEN_FLAGS, tempDir } from "../helpers/server.ts";
import { jobState, spawnServer, waitFinished } from "../helpers/process.ts";
import { postJob, rasterizeJob } from "../helpers/jobs.ts";
import { pollUntil } from "../helpers/poll.ts";
import { blurredRects, children, coresUsed, workerThreads } from "../helpers/cpu.ts";

Deno.test("a render over --render-timeout-ms fails 603 and its work really stops: threads, processes and CPU back to idle", async () => {
  await using dir = await tempDir();
  await Deno.writeTextFile(`${dir.path}/slow.svg`, blurredRects());
  await Deno.writeTextFile(
    `${dir.path}/small.svg`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"><rect width="40" height="20" fill="red"/></svg>`,
  );
  await using imgserve = await spawnServer([
    "--workers",
    "1",
    "--render-timeout-ms",
    "2000",
    "--kv",
    ":memory:",
    ...OPEN_FLAGS,
  ]);
  const pid = imgserve.child.pid;
  const post = async (name: string) =>
    (await postJob(imgserve.base, rasterizeJob(`file://${dir.path}/${name}`, `file://${dir.path}/out-${name}.png`)))
      .json as { id: string };
  // A small render first, so the render process is up and the baseline includes it.
  assertEquals((await waitFinished(imgserve.base, (await post("small.svg")).id)).state, "done");
  const [workerBefore] = workerThreads(pid);
  const renderersBefore = children(pid);

  const slow = await post("slow.svg");
  const started = Date.now();
  await pollUntil(async () => (await jobState(imgserve.base, slow.id)).state === "running", {
    message: "the slow render running",
  });
  await new Promise((r) => setTimeout(r, 300));
  await assertHealthy(imgserve.base);
  const failed = await waitFinished(imgserve.base, slow.id, 15_000);
  assertEquals([failed.state, failed.code], ["failed", 603]);
  assert(Date.now() - started < 10_000, `the 603 came after ${Date.now() - started} ms`);

  // Within seconds: the old worker thread and render process are gone, and nothing spins (the replacement
  // worker starts its render process, about a second of CPU, spread out on a busy machine).
  const deadline = Date.now() + 15_000;
  let cores = Infinity;
  while (Date.now() < deadline) {
    cores = await coresUsed(pid, 1000);
    if (cores < 0.15) break;
  }
  assert(cores < 0.15, `the server and its children still use ${cores.toFixed(2)} cores`);
  const workersAfter = workerThreads(pid);
  assertEquals(workersAfter.length, 1, "one worker thread, the replacement");
  assert(workersAfter[0] !== workerBefore, "the overrunning worker's thread is gone");
  for (const renderer of renderersBefore) {
    assert(!children(pid).includes(renderer), `render process ${renderer} still alive`);
  }
  assert(children(pid).length <= 1, `render processes left: ${children(pid).join(", ")}`);
  await assertHealthy(imgserve.base);
  // And the next SVG renders on the fresh worker.
  assertEquals((await waitFinished(imgserve.base, (await post("small.svg")).id)).state, "done");
});
