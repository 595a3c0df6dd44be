/**
 * s3:// jobs end to end, through a running server, against a real Ceph
 * RADOS Gateway (test/fixtures/rgw.ts): every direction, several outputs
 * with tags, placeholders before the reply, SVGs, multipart, the refusals
 * and failures with their codes, and a crash in the middle of a job.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { assertImage, GREEN, isImage, PLACEHOLDER_GREY, png, thirds, undecodablePng } from "../helpers/images.ts";
import { freePort } from "../helpers/ports.ts";
import { heldSource, serve, tempDir, type TestServer } from "../helpers/server.ts";
import { jobState, spawnServer, waitFinished } from "../helpers/process.ts";
import { postJob } from "../helpers/jobs.ts";
import { readHeader } from "../../src/image/header.ts";
import { RGW, RGW_KEYS, testBucket } from "../fixtures/rgw.ts";
import { skipped } from "../helpers/requirements.ts";
import { pollUntil } from "../helpers/poll.ts";
import { throttlingFront } from "../fixtures/throttling_front.ts";

// The in-process servers read the credentials from the environment, as a deployment would.
Deno.env.set("AWS_ACCESS_KEY_ID", RGW_KEYS.accessKeyId);
Deno.env.set("AWS_SECRET_ACCESS_KEY", RGW_KEYS.secretAccessKey);

const PHOTO = "/usr/share/backgrounds/mate/abstract/Elephants.jpg";

const greenSvg = new TextEncoder().encode(
  `<svg xmlns="http://www.w3.org/2000/svg" width="30" height="20"><rect width="30" height="20" fill="#00ff00"/></svg>`,
);

/** Posts a job, which must be accepted, and resolves with its final state. */
async function accepted(imgserve: TestServer, body: Record<string, unknown>): Promise<Record<string, unknown>> {
  const reply = await imgserve.post(body);
  assertEquals(reply.status, 202, JSON.stringify(reply.json));
  return await imgserve.finished(reply.json.id as string);
}

Deno.test({
  name:
    "s3 to file, file to s3 and s3 to s3 (without --allow-private-networks): each result real, with its Content-Type",
  ignore: skipped(RGW),
  fn: async () => {
    await using bucket = await testBucket();
    await using dir = await tempDir();
    await bucket.put("in/a.png", await png(thirds(90, 60)), "image/png");
    await Deno.writeFile(`${dir.path}/b.png`, await png(thirds(90, 60)));
    const cacheFlags = ["--s3-cache-control", "public, max-age=60"];
    await using imgserve = await serve([...bucket.flags, ...cacheFlags, "--file-root", dir.path], { open: false });
    const s3 = { metadata: { owner: "shop-7" } };
    const jobs = [
      { srcURL: bucket.url("in/a.png"), dstURL: `file://${dir.path}/from-s3.png` },
      { srcURL: `file://${dir.path}/b.png`, dstURL: bucket.url("out/from-file.webp"), format: "webp" },
      { srcURL: bucket.url("in/a.png"), dstURL: bucket.url("out/from%20s3.jpg"), format: "jpeg", s3 },
    ];
    for (const { srcURL, dstURL, format, s3 } of jobs) {
      const args = { width: 30, height: 20, format, s3 };
      assertEquals((await accepted(imgserve, { operationType: "resize", srcURL, dstURL, args })).state, "done");
    }
    await assertImage(await Deno.readFile(`${dir.path}/from-s3.png`), { width: 30, height: 20, centre: GREEN });
    const webp = (await bucket.get("out/from-file.webp"))!;
    assertEquals(webp.contentType, "image/webp");
    await assertImage(webp.bytes, { width: 30, height: 20, format: "webp", centre: GREEN });
    const jpeg = (await bucket.get("out/from s3.jpg"))!;
    assertEquals(jpeg.contentType, "image/jpeg");
    assertEquals([webp.cacheControl, webp.metadata], ["public, max-age=60", {}]);
    assertEquals([jpeg.cacheControl, jpeg.metadata], ["public, max-age=60", { owner: "shop-7" }]);
    await assertImage(jpeg.bytes, { width: 30, height: 20, format: "jpeg", centre: GREEN });
    // The endpoint is open to s3:// only: the same object over http:// is still a private address.
    const direct = await imgserve.post({
      operationType: "resize",
      srcURL: `${bucket.endpoint}/${bucket.name}/in/a.png`,
      dstURL: `file://${dir.path}/direct.png`,
      args: { width: 30 },
    });
    assertEquals([direct.status, direct.json.code], [403, 404], JSON.stringify(direct.json));
  },
});

Deno.test({
  name: "three outputs to s3 keys with tags: placeholders in place right after the 202, the results after the job",
  ignore: skipped(RGW),
  fn: async () => {
    await using bucket = await testBucket();
    await using source = heldSource({ "/photo.png": await png(thirds(90, 60)) });
    await using imgserve = await serve(bucket.flags);
    const reply = await imgserve.post({
      operationType: "resize",
      srcURL: `${source.base}/photo.png`,
      outputs: [
        { dstURL: bucket.url("large/{$basename}-{$width}x{$height}.{$ext}"), args: { width: 60, height: 40 } },
        { dstURL: bucket.url("small/{$basename}.{$format}"), args: { width: 30, height: 20, format: "jpeg" } },
        { dstURL: bucket.url("webp/{$basename}_{$width}.webp"), args: { width: 15, height: 10, format: "webp" } },
      ],
    });
    assertEquals(reply.status, 202, JSON.stringify(reply.json));
    const keys = ["large/photo-60x40.png", "small/photo.jpg", "webp/photo_15.webp"];
    const sizes = [[60, 40], [30, 20], [15, 10]];
    assertEquals(await bucket.keys(), keys);
    for (const [i, key] of keys.entries()) {
      const [width, height] = sizes[i];
      await assertImage(
        (await bucket.get(key))!.bytes,
        { width, height, centre: PLACEHOLDER_GREY },
        `placeholder ${key}`,
      );
    }
    source.release();
    assertEquals((await imgserve.finished(reply.json.id as string)).state, "done");
    for (const [i, key] of keys.entries()) {
      const [width, height] = sizes[i];
      await assertImage((await bucket.get(key))!.bytes, { width, height, centre: GREEN }, `result ${key}`);
    }
    assertEquals(await bucket.keys(), keys, "nothing of ours left beside them");
  },
});

Deno.test({
  name: "an SVG from s3 is rasterized to s3",
  ignore: skipped(RGW),
  fn: async () => {
    await using bucket = await testBucket();
    await bucket.put("in/logo.svg", greenSvg, "image/svg+xml");
    await using imgserve = await serve(bucket.flags);
    const state = await accepted(imgserve, {
      operationType: "rasterize",
      srcURL: bucket.url("in/logo.svg"),
      dstURL: bucket.url("out/logo.png"),
      args: { width: 60 },
    });
    assertEquals(state.state, "done");
    const out = (await bucket.get("out/logo.png"))!;
    assertEquals(out.contentType, "image/png");
    await assertImage(out.bytes, { width: 60, height: 40, centre: GREEN, tolerance: 0 });
  },
});

Deno.test({
  name: "the same bucket and key as source and destination, however spelled, is refused with 409/115",
  ignore: skipped(RGW),
  fn: async () => {
    await using bucket = await testBucket();
    const original = await png(thirds(90, 60));
    await bucket.put("x/a.png", original, "image/png");
    await using imgserve = await serve(bucket.flags);
    const reply = await imgserve.post({
      operationType: "resize",
      srcURL: bucket.url("x/a.png"),
      dstURL: bucket.url("x/%61.png"),
      args: { width: 30 },
    });
    assertEquals([reply.status, reply.json.code], [409, 115], JSON.stringify(reply.json));
    assertEquals((await bucket.get("x/a.png"))!.bytes, original);
  },
});

Deno.test({
  name: "a job that fails after its 202 puts the earlier object back and leaves nothing of its own",
  ignore: skipped(RGW),
  fn: async () => {
    await using bucket = await testBucket();
    const earlier = new TextEncoder().encode("the earlier object");
    await bucket.put("out/a.png", earlier, "text/plain");
    await bucket.put("in/bad.png", undecodablePng(await png(thirds(90, 60))), "image/png");
    await using imgserve = await serve(bucket.flags);
    const state = await accepted(imgserve, {
      operationType: "resize",
      srcURL: bucket.url("in/bad.png"),
      dstURL: bucket.url("out/a.png"),
      args: { width: 30, height: 20 },
    });
    assertEquals([state.state, state.code], ["failed", 601], JSON.stringify(state));
    const back = (await bucket.get("out/a.png"))!;
    assertEquals([back.bytes, back.contentType], [earlier, "text/plain"]);
    assertEquals(await bucket.keys(), ["in/bad.png", "out/a.png"]);
  },
});

Deno.test({
  name:
    "a missing key, a missing bucket, a wrong secret, an unreachable endpoint and a too large source each get their code",
  ignore: skipped(RGW),
  fn: async () => {
    await using bucket = await testBucket();
    await using dir = await tempDir();
    await Deno.writeFile(`${dir.path}/a.png`, await png(thirds(90, 60)));
    await bucket.put("in/photo.jpg", await Deno.readFile(PHOTO), "image/jpeg");
    const job = (srcURL: string, dstURL = bucket.url("out/a.png")) => ({
      operationType: "resize",
      srcURL,
      dstURL,
      args: { width: 30 },
    });
    const codes = async (flags: string[], body: unknown) => {
      await using imgserve = await serve([...flags, "--file-root", dir.path]);
      const reply = await imgserve.post(body);
      return [reply.status, reply.json.code];
    };
    assertEquals(await codes(bucket.flags, job(bucket.url("in/missing.png"))), [404, 202]);
    assertEquals(await codes(bucket.flags, job("s3://no-such-bucket/a.png")), [404, 215]);
    assertEquals(await codes(bucket.flags, job(`file://${dir.path}/a.png`, "s3://no-such-bucket/a.png")), [404, 307]);
    assertEquals(await codes([...bucket.flags, "--max-source-bytes", "1000"], job(bucket.url("in/photo.jpg"))), [
      413,
      203,
    ]);
    const nowhere = ["--s3-endpoint", `http://127.0.0.1:${freePort()}`, "--s3-path-style"];
    assertEquals(await codes(nowhere, job(bucket.url("in/photo.jpg"))), [502, 201]);
    Deno.env.set("AWS_SECRET_ACCESS_KEY", "not-the-secret");
    try {
      assertEquals(await codes(bucket.flags, job(bucket.url("in/photo.jpg"))), [403, 217]);
      assertEquals(await codes(bucket.flags, job(`file://${dir.path}/a.png`)), [403, 309]);
    } finally {
      Deno.env.set("AWS_SECRET_ACCESS_KEY", RGW_KEYS.secretAccessKey);
    }
    assertEquals(await bucket.keys(), ["in/photo.jpg"], "no refused job left anything behind");
  },
});

/** A PNG of noise, which no encoder can make much smaller than its pixels. */
async function noisePng(width: number, height: number): Promise<Uint8Array<ArrayBuffer>> {
  let seed = 0x9e3779b9;
  const image = new ImageData(width, height);
  const words = new Uint32Array(image.data.buffer);
  for (let i = 0; i < words.length; i++) {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    words[i] = seed | 0xff000000;
  }
  return await png(image);
}

Deno.test({
  name: "a 30 MB result goes up in parts and arrives whole",
  ignore: skipped(RGW),
  fn: async () => {
    await using bucket = await testBucket();
    await bucket.put("in/noise.png", await noisePng(3500, 3000), "image/png");
    await using imgserve = await serve([...bucket.flags, "--max-result-pixels", "20000000"]);
    const state = await accepted(imgserve, {
      operationType: "resize",
      srcURL: bucket.url("in/noise.png"),
      dstURL: bucket.url("out/big.png"),
      args: { width: 3500, height: 3000 },
    });
    assertEquals(state.state, "done", JSON.stringify(state));
    const out = (await bucket.get("out/big.png"))!;
    assert(out.bytes.byteLength > 30_000_000, `${out.bytes.byteLength} bytes`);
    assert(/-\d+"?$/.test(out.etag), `a multipart ETag, not ${out.etag}`);
    const header = readHeader(out.bytes, true);
    assertEquals([header.format, header.width, header.height], ["png", 3500, 3000]);
  },
});

Deno.test({
  name: "SIGKILL after the 202, before the run: after a restart every output is the real result",
  ignore: skipped(RGW),
  fn: async () => {
    await using bucket = await testBucket();
    await using dir = await tempDir();
    await using source = heldSource({ "/photo.png": await png(thirds(90, 60)) });
    const flags = [...bucket.flags, "--kv", `${dir.path}/jobs.kv`, "--allow-private-networks", "--lease-ms", "1000"];
    const keys = ["out/a.png", "out/b.jpg", "out/c.webp"];
    let id: string;
    {
      await using server = await spawnServer(flags, { env: bucket.env });
      const reply = await postJob(server.base, {
        operationType: "resize",
        srcURL: `${source.base}/photo.png`,
        outputs: [
          { dstURL: bucket.url("out/a.png"), args: { width: 60, height: 40 } },
          { dstURL: bucket.url("out/b.{$format}"), args: { width: 30, height: 20, format: "jpeg" } },
          { dstURL: bucket.url("out/c.webp"), args: { width: 15, height: 10 } },
        ],
      });
      assertEquals(reply.status, 202, JSON.stringify(reply.json));
      id = reply.json.id as string;
      // The source is held after its header: the job is accepted, its placeholders written, its result not made.
      assert(["queued", "running"].includes((await jobState(server.base, id)).state as string));
      assertEquals(await server.stop("SIGKILL"), 137);
    }
    for (const key of keys) assert(await isImage((await bucket.get(key))!.bytes, { centre: PLACEHOLDER_GREY }), key);
    source.release();
    await using again = await spawnServer(flags, { env: bucket.env });
    const state = await waitFinished(again.base, id, 30_000);
    assertEquals(state.state, "done", JSON.stringify(state));
    const sizes = [[60, 40], [30, 20], [15, 10]];
    for (const [i, key] of keys.entries()) {
      const [width, height] = sizes[i];
      await assertImage((await bucket.get(key))!.bytes, { width, height, centre: GREEN }, key);
    }
    assertEquals(await bucket.keys(), keys);
  },
});

Deno.test({
  name:
    "SIGKILL while a job runs, one output delivered: after a restart the others are made, the delivered one left alone",
  ignore: skipped(RGW),
  fn: async () => {
    await using bucket = await testBucket();
    await using dir = await tempDir();
    await bucket.put("in/photo.png", await png(thirds(90, 60)), "image/png");
    const flags = [...bucket.flags, "--kv", `${dir.path}/jobs.kv`, "--lease-ms", "1000"];
    // The second output is large, so the kill lands while it is being made, after the first is delivered.
    const outputs = [
      { key: "out/first.png", args: { width: 60, height: 40 } },
      { key: "out/large.png", args: { width: 3800, height: 2600 } },
      { key: "out/last.webp", args: { width: 15, height: 10 } },
    ];
    let id: string;
    let first: Awaited<ReturnType<typeof bucket.get>>;
    {
      await using server = await spawnServer(flags, { env: bucket.env });
      const reply = await postJob(server.base, {
        operationType: "resize",
        srcURL: bucket.url("in/photo.png"),
        outputs: outputs.map(({ key, args }) => ({ dstURL: bucket.url(key), args })),
      });
      assertEquals(reply.status, 202, JSON.stringify(reply.json));
      id = reply.json.id as string;
      first = await pollUntil(async () => {
        const object = await bucket.get("out/first.png");
        return object && await isImage(object.bytes, { centre: GREEN }) ? object : undefined;
      }, { timeoutMs: 30_000, intervalMs: 10, message: "the first output delivered" });
      assertEquals((await jobState(server.base, id)).state, "running");
      assertEquals(await server.stop("SIGKILL"), 137);
    }
    assert(await isImage((await bucket.get("out/large.png"))!.bytes, { centre: PLACEHOLDER_GREY }), "killed mid-run");
    await using again = await spawnServer(flags, { env: bucket.env });
    const state = await waitFinished(again.base, id, 60_000);
    assertEquals(state.state, "done", JSON.stringify(state));
    for (const { key, args } of outputs) {
      await assertImage((await bucket.get(key))!.bytes, { width: args.width, height: args.height, centre: GREEN }, key);
    }
    const after = (await bucket.get("out/first.png"))!;
    assertEquals([after.etag, after.lastModified], [first!.etag, first!.lastModified], "not written again");
    assertEquals(await bucket.keys(), ["in/photo.png", ...outputs.map((o) => o.key)].sort());
  },
});

Deno.test({
  name: "a store that answers 503 SlowDown to the result's PUT: a passing failure (311): the job is retried and done",
  ignore: skipped(RGW),
  fn: async () => {
    await using bucket = await testBucket();
    await using dir = await tempDir();
    await Deno.writeFile(`${dir.path}/a.png`, await png(thirds(90, 60)));
    let puts = 0;
    await using front = throttlingFront(
      new URL(bucket.endpoint).host,
      (method, path) => method === "PUT" && path.startsWith(`/${bucket.name}/out/a.png`) && ++puts === 2,
    );
    const flags = [
      "--s3-endpoint",
      front.endpoint,
      "--s3-path-style",
      "--file-root",
      dir.path,
      "--retry-base-ms",
      "100",
    ];
    await using imgserve = await serve(flags, { open: false });
    const state = await accepted(imgserve, {
      operationType: "resize",
      srcURL: `file://${dir.path}/a.png`,
      dstURL: bucket.url("out/a.png"),
      args: { width: 30, height: 20 },
    });
    assertEquals([state.state, state.attempts], ["done", 2], JSON.stringify(state));
    assertEquals(front.seen.filter((r) => r.throttled).map((r) => r.request), [
      `PUT /${bucket.name}/out/a.png?x-id=PutObject`,
    ]);
    await assertImage((await bucket.get("out/a.png"))!.bytes, { width: 30, height: 20, centre: GREEN });
  },
});
