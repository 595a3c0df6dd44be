import { assert, assertEquals } from "../helpers/assert.ts";
import { OPEN_FLAGS, tempDir } from "../helpers/server.ts";
import { spawnServer } from "../helpers/process.ts";
import { postJob, resizeJob, waitFinished } from "../helpers/jobs.ts";
import { manyFrameGif } from "../helpers/animations.ts";
import { budgeted, type WorkerMemory } from "../../protocol/memory.ts";

const MiB = 1024 * 1024;
/** The default --worker-memory. */
const BUDGET = 512 * MiB;

/** Peak and current resident memory of a process, from /proc. */
async function residentOf(pid: number): Promise<{ peak: number; now: number }> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const kib = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, "m").exec(status)![1]) * 1024;
  return { peak: kib("VmHWM"), now: kib("VmRSS") };
}

Deno.test("a 500-frame 1000x1000 GIF is made a frame at a time: the worker stays within its budget", async () => {
  await using dir = await tempDir();
  const frames = 500;
  await Deno.writeFile(`${dir.path}/long.gif`, manyFrameGif(1000, 1000, frames));
  await Deno.writeFile(`${dir.path}/short.gif`, manyFrameGif(1000, 1000, 2));
  // A process of its own, so its peak memory is this job's, not other tests'.
  await using imgserve = await spawnServer(["--workers", "1", "--kv", ":memory:", ...OPEN_FLAGS]);
  const run = async (name: string) => {
    const reply = await postJob(
      imgserve.base,
      resizeJob(`file://${dir.path}/${name}.gif`, `file://${dir.path}/out/${name}-{$frames}.gif`, {
        width: 200,
        height: 200,
      }),
    );
    assertEquals(reply.status, 202, JSON.stringify(reply.json));
    const job = await waitFinished(imgserve.base, reply.json.id as string, 240_000);
    assertEquals(job.state, "done", JSON.stringify(job));
  };
  // Two frames first: the codecs loaded, the decode's buffers made once.
  await run("short");
  const before = await residentOf(imgserve.child.pid);
  await run("long");
  const after = await residentOf(imgserve.child.pid);
  const health = await (await fetch(`${imgserve.base}/healthz`)).json();
  const worker = health.memory.workers[0] as WorkerMemory;
  assert(budgeted(worker) < BUDGET, `the worker holds ${Math.round(budgeted(worker) / MiB)} MiB`);
  assertEquals(health.memory.recycled, 0, "no worker was replaced for its memory");
  // All 500 decoded frames would be 2 GB of canvases; one at a time, a few canvases and the encoded result.
  const grown = Math.max(0, after.peak - before.peak);
  assert(grown < 128 * MiB, `peak resident memory grew by ${Math.round(grown / MiB)} MiB`);
  const out = new TextDecoder().decode(
    (await new Deno.Command("identify", { args: ["-format", "%w %h\n", `${dir.path}/out/long-${frames}.gif`] })
      .output()).stdout,
  ).trim().split("\n");
  assertEquals(out.length, frames);
  assert(out.every((line) => line === "200 200"), out[0]);
});
