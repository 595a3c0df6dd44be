/**
 * Jobs with several outputs through a running imgserve, to real file,
 * FTP (pyftpdlib) and HTTP PUT destinations on 127.0.0.1.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { assertImage, GREEN, isImage, PLACEHOLDER_GREY, png, thirds } from "../helpers/images.ts";
import { jobState, postJob } from "../helpers/jobs.ts";
import { spawnServer, waitFinished } from "../helpers/process.ts";
import { heldSource, httpServer, serve, tempDir } from "../helpers/server.ts";
import { startPyftpd, type TestFtpServer } from "../fixtures/ftp/pyftpd.ts";
import type { SingleOutputRecord } from "../../src/journal/mod.ts";
import { planJob } from "../../src/job/planner.ts";
import { namesIn } from "../helpers/files.ts";

/** An HTTP PUT destination keeping the bodies it took, per path; `answer` picks each reply's status. */
function putSite(answer: (path: string, nth: number) => number | Promise<number> = () => 201) {
  const puts = new Map<string, Uint8Array[]>();
  const site = httpServer(async (req) => {
    const path = new URL(req.url).pathname;
    const body = new Uint8Array(await req.arrayBuffer());
    const bodies = puts.get(path) ?? [];
    bodies.push(body);
    puts.set(path, bodies);
    const status = await answer(path, bodies.length);
    return new Response(status < 300 ? null : "no", { status });
  });
  return Object.assign(site, { puts });
}

/** Uploads (STOR) the FTP server logged; its log lies beside its root folder. */
async function stores(ftp: TestFtpServer): Promise<number> {
  const log = await Deno.readTextFile(`${ftp.root}/../log`);
  return log.split("\n").filter((line) => /\bSTOR\b.*completed=1/.test(line)).length;
}

Deno.test("one job to a file, an FTP server and an HTTP PUT: every placeholder before the reply, every output at its size, format and name, one download", async () => {
  await using dir = await tempDir();
  await using src = heldSource({ "/pics/Held.png": await png(thirds(600, 400)) });
  await using ftp = await startPyftpd();
  await using dst = putSite();
  await using imgserve = await serve();
  const reply = await imgserve.post({
    operationType: "resize",
    srcURL: `${src.base}/pics/Held.png`,
    outputs: [
      { dstURL: `file://${dir.path}/large/{$basename}.{$ext}`, args: { width: 300, height: 300, mode: "fit" } },
      {
        dstURL: `ftp://127.0.0.1:${ftp.port}/card/{$basename}-{$width}x{$height}.webp`,
        args: { width: 160, height: 120, format: "webp" },
      },
      { dstURL: `${dst.base}/thumbs/{$basename}.jpg`, args: { width: 60, height: 40, format: "jpeg", quality: 80 } },
    ],
  });
  assertEquals(reply.status, 202, JSON.stringify(reply.json));
  const id = reply.json.id as string;
  assertEquals(reply.json.outputs, [
    { dstURL: `file://${dir.path}/large/Held.png`, width: 300, height: 200 },
    { dstURL: `ftp://127.0.0.1:${ftp.port}/card/Held-160x120.webp`, width: 160, height: 120 },
    { dstURL: `${dst.base}/thumbs/Held.jpg`, width: 60, height: 40 },
  ]);
  assertEquals(reply.headers.get("location"), `/jobs/${id}`);
  // The source is still held: what is at each destination now is the placeholder.
  assert(await isImage(await Deno.readFile(`${dir.path}/large/Held.png`), { centre: PLACEHOLDER_GREY, tolerance: 2 }));
  assert(
    await isImage(await Deno.readFile(`${ftp.root}/card/Held-160x120.webp`), {
      centre: PLACEHOLDER_GREY,
      tolerance: 2,
    }),
  );
  assert(await isImage(dst.puts.get("/thumbs/Held.jpg")![0], { centre: PLACEHOLDER_GREY, tolerance: 2 }));
  const pending = await jobState(imgserve.base, id);
  assertEquals((pending.outputs as { state: string }[]).map((o) => o.state), ["pending", "pending", "pending"]);
  src.release();
  const job = await imgserve.finished(id);
  assertEquals(job.state, "done", JSON.stringify(job));
  const large = await Deno.readFile(`${dir.path}/large/Held.png`);
  const card = await Deno.readFile(`${ftp.root}/card/Held-160x120.webp`);
  const thumb = dst.puts.get("/thumbs/Held.jpg")![1];
  await assertImage(large, { width: 300, height: 200, format: "png", centre: GREEN });
  await assertImage(card, { width: 160, height: 120, format: "webp", centre: GREEN });
  await assertImage(thumb, { width: 60, height: 40, format: "jpeg", centre: GREEN });
  const outputs = job.outputs as Record<string, unknown>[];
  assertEquals(
    outputs.map(({ dstURL, state, width, height, format, size }) => ({ dstURL, state, width, height, format, size })),
    [
      {
        dstURL: `file://${dir.path}/large/Held.png`,
        state: "done",
        width: 300,
        height: 200,
        format: "png",
        size: large.length,
      },
      {
        dstURL: `ftp://127.0.0.1:${ftp.port}/card/Held-160x120.webp`,
        state: "done",
        width: 160,
        height: 120,
        format: "webp",
        size: card.length,
      },
      {
        dstURL: `${dst.base}/thumbs/Held.jpg`,
        state: "done",
        width: 60,
        height: 40,
        format: "jpeg",
        size: thumb.length,
      },
    ],
  );
  assertEquals(["dstURL" in job, "error" in job, job.attempts], [false, false, 1]);
  assertEquals(src.hits.get("/pics/Held.png"), 1);
  assertEquals(namesIn(`${dir.path}/large`), ["Held.png"]);
  assertEquals(namesIn(`${ftp.root}/card`), ["Held-160x120.webp"]);
});

Deno.test("an output whose destination answers 403 fails alone: the others are done and the job fails with code 120", async () => {
  await using dir = await tempDir();
  await Deno.writeFile(`${dir.path}/a.png`, await png(thirds(300, 200)));
  // The placeholder is taken; the result is refused.
  await using dst = putSite((_, nth) => nth === 1 ? 201 : 403);
  let callback: Record<string, unknown> | undefined;
  const { promise: called, resolve } = Promise.withResolvers<void>();
  await using hook = httpServer(async (req) => {
    callback = await req.json();
    resolve();
    return new Response(null, { status: 204 });
  });
  await using imgserve = await serve(["--retry-base-ms", "20"]);
  const reply = await imgserve.post({
    operationType: "resize",
    srcURL: `file://${dir.path}/a.png`,
    callbackURL: `${hook.base}/done`,
    outputs: [
      { dstURL: `file://${dir.path}/out/big.png`, args: { width: 150 } },
      { dstURL: `${dst.base}/refused.png`, args: { width: 90, height: 60 } },
      { dstURL: `file://${dir.path}/out/small.png`, args: { width: 30, height: 20 } },
    ],
  });
  assertEquals(reply.status, 202, JSON.stringify(reply.json));
  const job = await imgserve.finished(reply.json.id as string);
  assertEquals([job.state, job.code, job.attempts], ["failed", 120, 1]);
  assert(String(job.error).startsWith("1 of 3 outputs failed (the others are done): outputs[1]: "), String(job.error));
  const outputs = job.outputs as Record<string, unknown>[];
  assertEquals(outputs.map((o) => [o.state, o.code]), [["done", undefined], ["failed", 303], ["done", undefined]]);
  await assertImage(await Deno.readFile(`${dir.path}/out/big.png`), {
    width: 150,
    height: 100,
    format: "png",
    centre: GREEN,
  });
  await assertImage(await Deno.readFile(`${dir.path}/out/small.png`), {
    width: 30,
    height: 20,
    format: "png",
    centre: GREEN,
  });
  assertEquals(dst.puts.get("/refused.png")!.length, 2, "a refusal is not retried");
  await called;
  assertEquals([callback!.id, callback!.state, callback!.code], [reply.json.id, "failed", 120]);
  assertEquals(
    (callback!.outputs as Record<string, unknown>[]).map((o) => [o.dstURL, o.state, o.code]),
    [
      [`file://${dir.path}/out/big.png`, "done", undefined],
      [`${dst.base}/refused.png`, "failed", 303],
      [`file://${dir.path}/out/small.png`, "done", undefined],
    ],
  );
});

Deno.test("a destination answering 500 once: the retry makes only that output again, and the source is read once per attempt", async () => {
  await using src = heldSource({ "/a.png": await png(thirds(300, 200)) });
  src.release();
  await using ftp = await startPyftpd();
  // Placeholder taken, first result refused with 500, then taken.
  await using flaky = putSite((_, nth) => nth === 2 ? 500 : 201);
  await using steady = putSite();
  await using imgserve = await serve(["--retry-base-ms", "50"]);
  const reply = await imgserve.post({
    operationType: "resize",
    srcURL: `${src.base}/a.png`,
    outputs: [
      { dstURL: `${steady.base}/one.png`, args: { width: 90, height: 60 } },
      { dstURL: `${flaky.base}/two.png`, args: { width: 60, height: 40 } },
      { dstURL: `ftp://127.0.0.1:${ftp.port}/three.png`, args: { width: 30, height: 20 } },
    ],
  });
  assertEquals(reply.status, 202, JSON.stringify(reply.json));
  const job = await imgserve.finished(reply.json.id as string);
  assertEquals([job.state, job.attempts, "error" in job], ["done", 2, false], JSON.stringify(job));
  assertEquals((job.outputs as { state: string }[]).map((o) => o.state), ["done", "done", "done"]);
  // Placeholder and result each: the outputs done on the first attempt are not uploaded again.
  assertEquals(steady.puts.get("/one.png")!.length, 2);
  assertEquals(await stores(ftp), 2);
  assertEquals(flaky.puts.get("/two.png")!.length, 3);
  await assertImage(steady.puts.get("/one.png")![1], { width: 90, height: 60, format: "png", centre: GREEN });
  await assertImage(flaky.puts.get("/two.png")![2], { width: 60, height: 40, format: "png", centre: GREEN });
  await assertImage(await Deno.readFile(`${ftp.root}/three.png`), {
    width: 30,
    height: 20,
    format: "png",
    centre: GREEN,
  });
  assertEquals(src.hits.get("/a.png"), 2);
});

Deno.test("bad outputs get their codes with the index in the message, and nothing is written", async () => {
  await using dir = await tempDir();
  await Deno.writeFile(`${dir.path}/a.png`, await png(thirds(30, 20)));
  await Deno.mkdir(`${dir.path}/out`);
  await using imgserve = await serve();
  const base = { operationType: "resize", srcURL: `file://${dir.path}/a.png` };
  const output = (name: string, width = 9) => ({ dstURL: `file://${dir.path}/out/${name}`, args: { width } });
  const cases: [unknown, number, string][] = [
    [{ ...base, outputs: [] }, 118, `"outputs" has 0 entries; a job takes 1 to 16`],
    [{ ...base, outputs: Array.from({ length: 17 }, (_, i) => output(`${i}.png`)) }, 118, `"outputs" has 17 entries`],
    [{ ...base, outputs: [output("a.png")], dstURL: output("b.png").dstURL, args: { width: 9 } }, 117, `"outputs"`],
    [
      { ...base, outputs: [output("a.png"), { dstURL: `file://${dir.path}/out/{$foo}.png`, args: { width: 9 } }] },
      105,
      "outputs[1].dstURL has an unknown tag {$foo}",
    ],
    [{ ...base, outputs: [output("a.png"), output("b.png", 0)] }, 104, "outputs[1].args.width"],
    [{ ...base, outputs: [output("a.png"), output("b.png", 99999)] }, 503, "outputs[1].args.width"],
    [{ ...base, outputs: [output("a.png"), output("{$basename}.png")] }, 119, "outputs[1].dstURL names the same"],
    ...["x//a.png", "x/./a.png", "x/y/../a.png", "x/y%2F..%2Fa.png"].map((other): [unknown, number, string] => [
      {
        ...base,
        outputs: [
          { dstURL: "ftp://127.0.0.1:1/x/a.png", args: { width: 9 } },
          { dstURL: `ftp://127.0.0.1:1/${other}`, args: { width: 9 } },
        ],
      },
      119,
      "outputs[1].dstURL names the same",
    ]),
    [
      { ...base, outputs: [output("a.png"), { dstURL: `gopher://h/x.png`, args: { width: 9 } }] },
      107,
      "outputs[1]",
    ],
    [
      { ...base, outputs: [output("a.png"), { dstURL: `file://${dir.path}/a.png`, args: { width: 9 } }] },
      115,
      "outputs[1]: the destination",
    ],
  ];
  for (const [body, code, message] of cases) {
    const reply = await imgserve.post(body);
    assertEquals(reply.json.code, code, JSON.stringify(reply.json));
    assert(reply.status >= 400 && reply.status < 500, String(reply.status));
    assert(String(reply.json.error).includes(message), `${reply.json.error} lacks ${message}`);
  }
  assertEquals(namesIn(`${dir.path}/out`), []);
});

Deno.test("a placeholder upload that fails refuses the job: the earlier file comes back, the placeholders written where no file was are removed", async () => {
  await using dir = await tempDir();
  await Deno.writeFile(`${dir.path}/a.png`, await png(thirds(30, 20)));
  await Deno.mkdir(`${dir.path}/out`);
  const earlier = new TextEncoder().encode("the earlier file");
  await Deno.writeFile(`${dir.path}/out/first.png`, earlier);
  await using ftp = await startPyftpd();
  await Deno.mkdir(`${ftp.root}/out`);
  await using refusing = putSite(() => 403);
  await using imgserve = await serve();
  const reply = await imgserve.post({
    operationType: "resize",
    srcURL: `file://${dir.path}/a.png`,
    outputs: [
      { dstURL: `file://${dir.path}/out/first.png`, args: { width: 9 } },
      { dstURL: `file://${dir.path}/out/second.png`, args: { width: 9 } },
      { dstURL: `ftp://127.0.0.1:${ftp.port}/out/third.png`, args: { width: 9 } },
      { dstURL: `${refusing.base}/fourth.png`, args: { width: 9 } },
      { dstURL: `file://${dir.path}/out/fifth.png`, args: { width: 9 } },
    ],
  });
  assertEquals([reply.status, reply.json.code], [502, 303], JSON.stringify(reply.json));
  assert(String(reply.json.error).startsWith("outputs[3]: "), String(reply.json.error));
  assertEquals(await Deno.readFile(`${dir.path}/out/first.png`), earlier);
  assertEquals(namesIn(`${dir.path}/out`), ["first.png"]);
  assertEquals(namesIn(`${ftp.root}/out`), []);
  assertEquals(await stores(ftp), 1, "the FTP placeholder was written before it was removed");
});

Deno.test("SIGKILL mid-job: after a restart the job ends done, every output real, and the output done before the kill is not written again", async () => {
  await using dir = await tempDir();
  await Deno.writeFile(`${dir.path}/a.png`, await png(thirds(300, 200)));
  // The HTTP output's result upload hangs until the first server is killed.
  let killed = false;
  const { promise: stalled, resolve: stall } = Promise.withResolvers<void>();
  const { promise: gone, resolve: release } = Promise.withResolvers<void>();
  await using dst = putSite(async (_, nth) => {
    if (nth === 2 && !killed) {
      stall();
      await gone;
    }
    return 201;
  });
  const flags = [
    "--kv",
    `${dir.path}/jobs.kv`,
    "--file-root",
    dir.path,
    "--allow-private-networks",
    "--lease-ms",
    "1000",
  ];
  let id: string;
  let first: Deno.FileInfo;
  {
    await using server = await spawnServer([...flags, "--workers", "1"]);
    const reply = await postJob(server.base, {
      operationType: "resize",
      srcURL: `file://${dir.path}/a.png`,
      outputs: [
        { dstURL: `file://${dir.path}/out/first.png`, args: { width: 90, height: 60 } },
        { dstURL: `${dst.base}/second.png`, args: { width: 60, height: 40 } },
        { dstURL: `file://${dir.path}/out/third.png`, args: { width: 30, height: 20 } },
      ],
    });
    assertEquals(reply.status, 202, JSON.stringify(reply.json));
    id = reply.json.id as string;
    await stalled;
    const state = await jobState(server.base, id);
    assertEquals((state.outputs as { state: string }[]).map((o) => o.state), ["done", "pending", "pending"]);
    first = await Deno.stat(`${dir.path}/out/first.png`);
    killed = true;
    assertEquals(await server.stop("SIGKILL"), 137);
    release();
  }
  await using second = await spawnServer(flags);
  const job = await waitFinished(second.base, id);
  assertEquals([job.state, job.attempts], ["done", 2], JSON.stringify(job));
  await assertImage(await Deno.readFile(`${dir.path}/out/first.png`), {
    width: 90,
    height: 60,
    format: "png",
    centre: GREEN,
  });
  // Placeholder, the upload cut by the kill, the one after the restart.
  assertEquals(dst.puts.get("/second.png")!.length, 3);
  await assertImage(dst.puts.get("/second.png")![2], { width: 60, height: 40, format: "png", centre: GREEN });
  await assertImage(await Deno.readFile(`${dir.path}/out/third.png`), {
    width: 30,
    height: 20,
    format: "png",
    centre: GREEN,
  });
  const again = await Deno.stat(`${dir.path}/out/first.png`);
  assertEquals([again.ino, again.mtime], [first.ino, first.mtime]);
  assertEquals(namesIn(`${dir.path}/out`), ["first.png", "third.png"]);
});

Deno.test("a job journaled by the version before outputs (its one output at the top level) is finished after an upgrade", async () => {
  await using dir = await tempDir();
  await Deno.writeFile(`${dir.path}/a.png`, await png(thirds(300, 200)));
  const header = { format: "png", width: 300, height: 200, orientation: 1, hasAlpha: false } as const;
  const args = { width: 90, height: 60, mode: "cover" } as const;
  const old: SingleOutputRecord = {
    id: "2f0c1a9e-0000-4000-8000-000000000001",
    state: "queued",
    dstURL: `file://${dir.path}/out/a.png`,
    width: 90,
    height: 60,
    plan: planJob({ operationType: "resize", args }, header, 16384),
    request: {
      operationType: "resize",
      srcURL: `file://${dir.path}/a.png`,
      dstTemplate: `file://${dir.path}/out/{$basename}.png`,
      args,
    },
    attempts: 1,
    acceptedAt: Date.now(),
  };
  {
    using kv = await Deno.openKv(`${dir.path}/jobs.kv`);
    await kv.atomic().set(["jobs", old.id], old).set(["open", old.id], true).commit();
  }
  await using imgserve = await serve(["--kv", `${dir.path}/jobs.kv`]);
  const job = await imgserve.finished(old.id);
  assertEquals([job.state, job.dstURL, job.width, job.height, "outputs" in job], ["done", old.dstURL, 90, 60, false]);
  await assertImage(await Deno.readFile(`${dir.path}/out/a.png`), {
    width: 90,
    height: 60,
    format: "png",
    centre: GREEN,
  });
});

Deno.test("a source that cannot be decoded fails every output with its code, and the job with it", async () => {
  await using dir = await tempDir();
  await Deno.writeFile(`${dir.path}/bad.png`, (await png(thirds(60, 40))).slice(0, 80));
  await using imgserve = await serve();
  const reply = await imgserve.post({
    operationType: "resize",
    srcURL: `file://${dir.path}/bad.png`,
    outputs: [
      { dstURL: `file://${dir.path}/out/one.png`, args: { width: 30 } },
      { dstURL: `file://${dir.path}/out/two.png`, args: { width: 20 } },
    ],
  });
  assertEquals(reply.status, 202, JSON.stringify(reply.json));
  const job = await imgserve.finished(reply.json.id as string);
  // Cut short, so damaged: 606.
  assertEquals([job.state, job.code], ["failed", 606], JSON.stringify(job));
  assertEquals((job.outputs as Record<string, unknown>[]).map((o) => [o.state, o.code]), [["failed", 606], [
    "failed",
    606,
  ]]);
});

Deno.test("outputs over earlier files in one folder keep each file under its own name until that output is done", async () => {
  await using dir = await tempDir();
  await using src = heldSource({ "/a.png": await png(thirds(300, 200)) });
  await Deno.mkdir(`${dir.path}/out`);
  await Deno.writeFile(`${dir.path}/out/one.png`, new TextEncoder().encode("earlier one"));
  await Deno.writeFile(`${dir.path}/out/two.png`, new TextEncoder().encode("earlier two"));
  await using imgserve = await serve();
  const reply = await imgserve.post({
    operationType: "resize",
    srcURL: `${src.base}/a.png`,
    outputs: [
      { dstURL: `file://${dir.path}/out/one.png`, args: { width: 90, height: 60 } },
      { dstURL: `file://${dir.path}/out/two.png`, args: { width: 60, height: 40 } },
    ],
  });
  assertEquals(reply.status, 202, JSON.stringify(reply.json));
  const id = reply.json.id as string;
  assertEquals(namesIn(`${dir.path}/out`), [`.imgserve-${id}.1.kept`, `.imgserve-${id}.kept`, "one.png", "two.png"]);
  assertEquals(await Deno.readTextFile(`${dir.path}/out/.imgserve-${id}.1.kept`), "earlier two");
  src.release();
  assertEquals((await imgserve.finished(id)).state, "done");
  await assertImage(await Deno.readFile(`${dir.path}/out/one.png`), {
    width: 90,
    height: 60,
    format: "png",
    centre: GREEN,
  });
  await assertImage(await Deno.readFile(`${dir.path}/out/two.png`), {
    width: 60,
    height: 40,
    format: "png",
    centre: GREEN,
  });
  assertEquals(namesIn(`${dir.path}/out`), ["one.png", "two.png"]);
});
