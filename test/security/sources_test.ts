import { assert, assertEquals } from "../helpers/assert.ts";
import { png, thirds } from "../helpers/images.ts";
import { jobState, spawnServer, waitFinished } from "../helpers/process.ts";
import { assertHealthy, heldSource, httpServer, OPEN_FLAGS, serve, tempDir } from "../helpers/server.ts";
import { type JobBody, jobBody } from "../helpers/jobs.ts";

const job = (srcURL: string, dstURL: string, op: JobBody["operationType"] = "resize") =>
  jobBody(op, srcURL, dstURL, { width: 10 });

Deno.test("a source that stalls after its header, or dribbles, fails its attempt (206) and frees its slot", async () => {
  await using dir = await tempDir();
  const image = await png(thirds(40, 40));
  await using stalled = heldSource({ "/a.png": image });
  // One byte every 100 ms: never idle for long, but never done.
  const dribbling: ReadableStreamDefaultController<Uint8Array>[] = [];
  let dribbled = 0;
  const drip = setInterval(() => {
    for (const c of dribbling) {
      try {
        c.enqueue(image.subarray(64 + dribbled % 100, 65 + dribbled % 100));
      } catch {
        // closed by the client
      }
    }
    dribbled++;
  }, 100);
  await using dribbler = httpServer(() =>
    new Response(new ReadableStream({ start: (c) => void (c.enqueue(image.subarray(0, 64)), dribbling.push(c)) }))
  );
  try {
    await using imgserve = await serve([
      "--transfer-timeout-ms",
      "400",
      "--source-timeout-ms",
      "1500",
      "--max-attempts",
      "1",
      "--max-queue",
      "1",
    ]);
    for (const base of [stalled.base, dribbler.base]) {
      const started = Date.now();
      const reply = await imgserve.post(job(`${base}/a.png`, `file://${dir.path}/a.png`));
      assertEquals(reply.status, 202, JSON.stringify(reply.json));
      await assertHealthy(imgserve.base, 1000);
      const done = await imgserve.finished(reply.json.id as string);
      assertEquals([done.state, done.code], ["failed", 206], JSON.stringify(done));
      assert(Date.now() - started < 4000, `failed after ${Date.now() - started} ms`);
    }
    // The one slot is free again.
    const source = await png(thirds(40, 40));
    await using good = httpServer(() => new Response(source));
    const reply = await imgserve.post(job(`${good.base}/b.png`, `file://${dir.path}/b.png`));
    assertEquals(reply.status, 202, JSON.stringify(reply.json));
    assertEquals((await imgserve.finished(reply.json.id as string)).state, "done");
    await assertHealthy(imgserve.base, 1000);
  } finally {
    clearInterval(drip);
    for (const c of dribbling) {
      try {
        c.close();
      } catch {
        // already closed
      }
    }
  }
});

Deno.test("--max-queue holds under 40 simultaneous posts against a slow source", async () => {
  await using dir = await tempDir();
  const image = await png(thirds(40, 40));
  await using slow = httpServer(async () => {
    await new Promise((r) => setTimeout(r, 300));
    return new Response(image);
  });
  await using imgserve = await serve(["--max-queue", "4"]);
  const replies = await Promise.all(
    Array.from({ length: 40 }, (_, i) => imgserve.post(job(`${slow.base}/${i}.png`, `file://${dir.path}/${i}.png`))),
  );
  const accepted = replies.filter((r) => r.status === 202);
  const refused = replies.filter((r) => r.status === 503);
  assert(accepted.length >= 1 && accepted.length <= 4, `${accepted.length} accepted with --max-queue 4`);
  assertEquals(accepted.length + refused.length, 40);
  for (const r of refused) assertEquals([r.json.code, r.headers.get("retry-after")], [505, "5"]);
  for (const r of accepted) assertEquals((await imgserve.finished(r.json.id as string)).state, "done");
  // Every slot came back.
  const again = await Promise.all(
    Array.from({ length: 4 }, (_, i) => imgserve.post(job(`${slow.base}/x${i}.png`, `file://${dir.path}/x${i}.png`))),
  );
  assertEquals(again.map((r) => r.status), [202, 202, 202, 202]);
  for (const r of again) await imgserve.finished(r.json.id as string);
  await assertHealthy(imgserve.base, 1000);
});

Deno.test("a FIFO, a socket or a device as file:// source is refused (210) without blocking the server", async () => {
  await using dir = await tempDir();
  const made = await new Deno.Command("mkfifo", { args: [`${dir.path}/fifo.png`, `${dir.path}/fifo.svg`] }).output();
  assert(made.success);
  using socket = Deno.listen({ transport: "unix", path: `${dir.path}/socket.png` });
  await Deno.writeFile(`${dir.path}/ok.png`, await png(thirds(30, 30)));
  // A process of its own: a blocked open() would freeze it, not the test.
  await using imgserve = await spawnServer([...OPEN_FLAGS, "--file-root", "/dev", "--kv", ":memory:"]);
  const post = async (body: unknown) => {
    const response = await fetch(`${imgserve.base}/`, {
      method: "POST",
      body: JSON.stringify(body),
      headers: { "content-type": "application/json" },
      signal: AbortSignal.timeout(5000),
    });
    return { status: response.status, json: await response.json() };
  };
  for (
    const [src, op] of [
      ["fifo.png", "resize"],
      ["fifo.svg", "rasterize"],
      ["socket.png", "resize"],
      ["", "resize"],
    ] as const
  ) {
    const reply = await post(job(`file://${dir.path}/${src}`, `file://${dir.path}/out/${src || "dir"}.png`, op));
    assertEquals([reply.status, reply.json.code], [422, 210], src);
    await assertHealthy(imgserve.base, 1000);
  }
  for (const device of ["/dev/zero", "/dev/urandom", "/dev/null"]) {
    const reply = await post(job(`file://${device}`, `file://${dir.path}/out/dev.png`));
    assertEquals([reply.status, reply.json.code], [422, 210], device);
  }
  const ok = await post(job(`file://${dir.path}/ok.png`, `file://${dir.path}/out/ok.png`));
  assertEquals(ok.status, 202);
  assertEquals((await waitFinished(imgserve.base, ok.json.id as string)).state, "done");
  assertEquals((await jobState(imgserve.base, ok.json.id as string)).code, undefined);
  await assertHealthy(imgserve.base, 1000);
  assertEquals([...Deno.readDirSync(`${dir.path}/out`)].map((e) => e.name), ["ok.png"]);
  socket.close();
});
