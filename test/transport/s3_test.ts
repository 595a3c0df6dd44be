/**
 * The s3:// transport against a real Ceph RADOS Gateway (test/fixtures/rgw.ts):
 * bytes and Content-Type stored and read back, keys decoded once, an earlier
 * object kept aside and put back, and each failure with its own code.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { freePort } from "../helpers/ports.ts";
import { FileRoots } from "../../src/security/files.ts";
import { openGuard, type Transports } from "../../src/transport/mod.ts";
import { builtinTransports } from "../../src/transport/table.ts";
import { Errors, ImgserveError } from "../../protocol/error_codes.ts";
import { s3Error } from "../../src/transport/s3/s3_client.ts";
import { readAtMost } from "../../src/streams.ts";
import { RGW, RGW_KEYS, testBucket } from "../fixtures/rgw.ts";
import { skipped } from "../helpers/requirements.ts";
import type { S3Settings } from "../../src/transport/s3/s3_settings.ts";
import { makeTestCerts } from "../fixtures/certs.ts";
import { tlsFront } from "../fixtures/tls_front.ts";

const options = { timeoutMs: 10_000, caCerts: [], guard: openGuard };

async function transportsFor(
  endpoint: string,
  secret = RGW_KEYS.secretAccessKey,
  more: Partial<S3Settings> = {},
): Promise<Transports> {
  const s3: S3Settings = {
    endpoint,
    region: undefined,
    pathStyle: true,
    cacheControl: undefined,
    credentials: { accessKeyId: RGW_KEYS.accessKeyId, secretAccessKey: secret },
    profile: undefined,
    ...more,
  };
  return builtinTransports(await FileRoots.resolve([]), s3);
}

async function codeOf(work: Promise<unknown>): Promise<number> {
  try {
    await work;
  } catch (err) {
    assert(err instanceof ImgserveError, `an ImgserveError, not ${err}`);
    return err.code;
  }
  throw new Error("it did not fail");
}

async function readText(transports: Transports, url: URL): Promise<string> {
  return new TextDecoder().decode(await readAtMost(await transports.read(url, options), 1 << 20));
}

Deno.test({
  name: "an object written through s3:// is stored with its Content-Type and read back; keys are decoded once",
  ignore: skipped(RGW),
  fn: async () => {
    await using bucket = await testBucket();
    const transports = await transportsFor(bucket.endpoint);
    const url = new URL(bucket.url("photos/a%20b%2525.png"));
    await transports.write(url, new TextEncoder().encode("pixels"), { ...options, contentType: "image/png" });
    const stored = await bucket.get("photos/a b%25.png");
    assertEquals([stored?.bytes, stored?.contentType], [new TextEncoder().encode("pixels"), "image/png"]);
    assertEquals(await readText(transports, url), "pixels");
    assertEquals(
      transports.identity(url, "source"),
      transports.identity(new URL(bucket.url("photos/a b%2525.png")), "destination"),
    );
  },
});

Deno.test({
  name: "every object gets --s3-cache-control, unless the job's args.s3 names its own; args.s3 metadata is stored",
  ignore: skipped(RGW),
  fn: async () => {
    await using bucket = await testBucket();
    const transports = await transportsFor(bucket.endpoint, undefined, { cacheControl: "public, max-age=60" });
    const bytes = new TextEncoder().encode("pixels");
    await transports.write(new URL(bucket.url("plain.png")), bytes, { ...options, contentType: "image/png" });
    const jobArgs = { width: 3, s3: { cacheControl: "no-store", metadata: { owner: "shop-7", "batch-id": "42" } } };
    await transports.write(new URL(bucket.url("asked.png")), bytes, { ...options, contentType: "image/png", jobArgs });
    const plain = await bucket.get("plain.png");
    assertEquals([plain?.cacheControl, plain?.metadata], ["public, max-age=60", {}]);
    const asked = await bucket.get("asked.png");
    assertEquals([asked?.cacheControl, asked?.metadata], ["no-store", { owner: "shop-7", "batch-id": "42" }]);
    // A result in parts carries them too.
    const large = new Uint8Array(9 * 1024 * 1024);
    await transports.write(new URL(bucket.url("large.png")), large, { ...options, contentType: "image/png", jobArgs });
    const parts = await bucket.get("large.png");
    assert(parts?.etag.endsWith('-2"'), `uploaded in parts: ${parts?.etag}`);
    assertEquals([parts?.cacheControl, parts?.metadata.owner], ["no-store", "shop-7"]);
  },
});

Deno.test({
  name:
    "an https endpoint signed by a private CA: reached with --ca-file's roots, refused without them as for HTTPS (207/303, naming --ca-file)",
  ignore: skipped(RGW),
  fn: async () => {
    await using bucket = await testBucket();
    await using dir = await Deno.makeTempDir().then((path) => ({
      path,
      [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }),
    }));
    const certs = await makeTestCerts(dir.path);
    await using front = tlsFront(certs, new URL(bucket.endpoint).host);
    const endpoint = `https://127.0.0.1:${front.port}`;
    const trusting = await transportsFor(endpoint, undefined, { caCerts: [certs.caPem] });
    const url = new URL(bucket.url("over-tls.png"));
    await trusting.write(url, new TextEncoder().encode("secret pixels"), { ...options, contentType: "image/png" });
    assertEquals(await readText(trusting, url), "secret pixels");
    const untrusting = await transportsFor(endpoint);
    const refusal = await untrusting.read(url, options).then(() => undefined, (err) => err as ImgserveError);
    assertEquals(refusal?.code, 207, String(refusal));
    assert(refusal?.message.includes("--ca-file"), refusal?.message);
    assertEquals(await codeOf(untrusting.write(url, new Uint8Array(3), { ...options, contentType: "x" })), 303);
  },
});

Deno.test({
  name: "a placeholder over an earlier object keeps it aside: put back when the job fails, let go when it is done",
  ignore: skipped(RGW),
  fn: async () => {
    await using bucket = await testBucket();
    const transports = await transportsFor(bucket.endpoint);
    const url = new URL(bucket.url("out/a.png"));
    await bucket.put("out/a.png", new TextEncoder().encode("earlier"), "image/png");
    const job = { id: crypto.randomUUID(), stage: "placeholder" as const };
    const bytes = new TextEncoder().encode("placeholder");
    const { kept } = await transports.write(url, bytes, { ...options, contentType: "image/png", job });
    assert(kept, "the earlier object was kept");
    assertEquals(await readText(transports, url), "placeholder");
    await transports.settle(url, job.id, "failed", options);
    assertEquals(await readText(transports, url), "earlier");
    assertEquals(await bucket.keys(), ["out/a.png"]);

    await transports.write(url, bytes, { ...options, contentType: "image/png", job });
    await transports.settle(url, job.id, "done", options);
    assertEquals(await readText(transports, url), "placeholder");
    assertEquals(await bucket.keys(), ["out/a.png"]);
    const fresh = { id: crypto.randomUUID(), stage: "placeholder" as const };
    const none = await transports.write(new URL(bucket.url("new.png")), bytes, {
      ...options,
      contentType: "x",
      job: fresh,
    });
    assertEquals(none.kept, false);
  },
});

Deno.test({
  name: "missing key, missing bucket, wrong secret, unreachable endpoint and a too large source each have their code",
  ignore: skipped(RGW),
  fn: async () => {
    await using bucket = await testBucket();
    const transports = await transportsFor(bucket.endpoint);
    const write = (t: Transports, url: string) =>
      t.write(new URL(url), new Uint8Array(3), { ...options, contentType: "image/png" });
    assertEquals(await codeOf(transports.read(new URL(bucket.url("nothing.png")), options)), 202);
    assertEquals(await codeOf(transports.read(new URL("s3://no-such-bucket-here/a.png"), options)), 215);
    assertEquals(await codeOf(write(transports, "s3://no-such-bucket-here/a.png")), 307);
    const wrong = await transportsFor(bucket.endpoint, "not-the-secret");
    assertEquals(await codeOf(wrong.read(new URL(bucket.url("a.png")), options)), 217);
    assertEquals(await codeOf(write(wrong, bucket.url("a.png"))), 309);
    const nowhere = await transportsFor(`http://127.0.0.1:${freePort()}`);
    assertEquals(await codeOf(nowhere.read(new URL(bucket.url("a.png")), options)), 201);
    assertEquals(await codeOf(write(nowhere, bucket.url("a.png"))), 302);
    await bucket.put("big.png", new Uint8Array(5000));
    assertEquals(await codeOf(transports.read(new URL(bucket.url("big.png")), { ...options, maxBytes: 4999 })), 203);
    assertEquals(await codeOf(transports.read(new URL("s3://bad_bucket/a.png"), options)), 106);
  },
});

Deno.test({
  name: "a multipart upload a crashed attempt left unfinished is aborted by the next attempt's clean-up",
  ignore: skipped(RGW),
  fn: async () => {
    await using bucket = await testBucket();
    const transports = await transportsFor(bucket.endpoint);
    await bucket.startUpload("out/a.png");
    await bucket.startUpload("out/a.png.other");
    assertEquals((await bucket.unfinishedUploads()).sort(), ["out/a.png", "out/a.png.other"]);
    await transports.cleanUp(new URL(bucket.url("out/a.png")), crypto.randomUUID(), options);
    assertEquals(await bucket.unfinishedUploads(), ["out/a.png.other"], "only that key's");
  },
});

Deno.test("an endpoint that accepts and never answers times out after --transfer-timeout-ms: 206 reading, 304 writing", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) held.push(conn);
  })();
  try {
    const transports = await transportsFor(`http://127.0.0.1:${listener.addr.port}`);
    const quick = { ...options, timeoutMs: 500 };
    const started = performance.now();
    assertEquals(await codeOf(transports.read(new URL("s3://bucket/a.png"), quick)), 206);
    const write = transports.write(new URL("s3://bucket/a.png"), new Uint8Array(3), { ...quick, contentType: "x" });
    assertEquals(await codeOf(write), 304);
    assert(performance.now() - started < 10_000, "both within the timeout, not the SDK's default");
  } finally {
    listener.close();
    await accepting.catch(() => {});
    for (const conn of held) conn.close();
  }
});

Deno.test("throttling is a passing failure with its own code, and a wrong region names itself", () => {
  const object = { bucket: "b", key: "k.png" };
  const slowDown = {
    name: "SlowDown",
    message: "Please reduce your request rate.",
    $metadata: { httpStatusCode: 503 },
  };
  assertEquals([s3Error(slowDown, "source", object).code, s3Error(slowDown, "destination", object).code], [219, 311]);
  assert(Errors.SOURCE_THROTTLED.transient && Errors.DESTINATION_THROTTLED.transient, "retried");
  const moved = { name: "PermanentRedirect", message: "…", $metadata: { httpStatusCode: 301 } };
  assertEquals([s3Error(moved, "source", object).code, s3Error(moved, "destination", object).code], [218, 310]);
  const noRegion = new Error("Region is missing");
  assertEquals(
    s3Error(noRegion, "source", object).message,
    "s3://b/k.png: no region is set (--s3-region or AWS_REGION)",
  );
});
