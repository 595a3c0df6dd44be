import { assert, assertEquals } from "../helpers/assert.ts";
import { assertImage, GREEN, PLACEHOLDER_GREY, png, thirds } from "../helpers/images.ts";
import { serve, tempDir } from "../helpers/server.ts";
import { makeTestCerts } from "../fixtures/certs.ts";
import { type ReceivedFile, uploadSite } from "../fixtures/http/upload_site.ts";
import { resizeJob } from "../helpers/jobs.ts";

/** A 300x100 red|green|blue PNG named thirds.png in a temporary folder. */
async function sourceFile(): Promise<{ url: string } & AsyncDisposable> {
  const dir = await tempDir();
  await Deno.writeFile(`${dir.path}/thirds.png`, await png(thirds(300, 100)));
  return { url: `file://${dir.path}/thirds.png`, [Symbol.asyncDispose]: () => dir[Symbol.asyncDispose]() };
}

async function assertPlaceholder(file: ReceivedFile | undefined): Promise<void> {
  assert(file, "no placeholder arrived");
  await assertImage(file.bytes, { width: 90, height: 60, centre: PLACEHOLDER_GREY, tolerance: 0 });
}

async function assertResult(file: ReceivedFile | undefined): Promise<void> {
  assert(file, "no result arrived");
  await assertImage(file.bytes, { width: 90, height: 60, centre: GREEN });
}

Deno.test("a form job uploads the placeholder and then the result through the page's form", async () => {
  await using source = await sourceFile();
  await using site = uploadSite();
  await using imgserve = await serve();
  const reply = await imgserve.post(
    resizeJob(source.url, `${site.base}/app/upload.html:{$width}-{$basename}.png`, {
      width: 90,
      height: 60,
      field_name: "image",
    }),
  );
  assertEquals(reply.status, 202, JSON.stringify(reply.json));
  assertEquals(reply.json.dstURL, `${site.base}/app/upload.html:90-thirds.png`);
  const placeholder = await site.upload(0);
  await assertPlaceholder(placeholder.file);
  assertEquals((await imgserve.finished(reply.json.id as string)).state, "done");
  const result = await site.upload(1);
  await assertResult(result.file);
  for (const upload of [placeholder, result]) {
    assertEquals(upload.path, "/app/receive/upload.php?from=page");
    assertEquals([upload.file?.fileName, upload.file?.type], ["90-thirds.png", "image/png"]);
    assert(upload.fields.some(([name, value]) => name === "csrf" && value === site.csrf));
    assert(upload.fields.some(([name, value]) => name === "title" && value === "default title"));
  }
  assertEquals(site.requests.filter((r) => r.startsWith("GET")).length, 2, "the page is read for each upload");
});

Deno.test("a PUT job puts the placeholder and then the result at the dstURL", async () => {
  await using source = await sourceFile();
  await using site = uploadSite();
  await using imgserve = await serve();
  const reply = await imgserve.post(
    resizeJob(source.url, `${site.base}/dav/{$width}x{$height}-{$basename}.{$ext}`, { width: 90, height: 60 }),
  );
  assertEquals(reply.status, 202, JSON.stringify(reply.json));
  assertEquals(reply.json.dstURL, `${site.base}/dav/90x60-thirds.png`);
  await assertPlaceholder((await site.upload(0)).file);
  assertEquals((await imgserve.finished(reply.json.id as string)).state, "done");
  await assertResult((await site.upload(1)).file);
  assertEquals(site.requests, ["PUT /dav/90x60-thirds.png", "PUT /dav/90x60-thirds.png"]);
  assertEquals(site.uploads.map((u) => u.contentType), ["image/png", "image/png"]);
});

Deno.test("a destination answering 403 or 500 to the placeholder fails the request with 303 or 305", async () => {
  await using source = await sourceFile();
  await using imgserve = await serve();
  for (const [status, code] of [[403, 303], [500, 305]]) {
    await using site = uploadSite({ statusFor: () => status });
    const reply = await imgserve.post(
      resizeJob(source.url, `${site.base}/app/upload.html:{$basename}.png`, {
        width: 90,
        height: 60,
        field_name: "image",
      }),
    );
    assertEquals([reply.status, reply.json.code], [502, code]);
    assert(String(reply.json.error).includes(String(status)), String(reply.json.error));
  }
});

Deno.test("a result upload refused after the placeholder fails the job with the destination's code", async () => {
  await using source = await sourceFile();
  await using site = uploadSite({ statusFor: (n) => n === 0 ? 201 : 500 });
  await using imgserve = await serve();
  const reply = await imgserve.post(
    resizeJob(source.url, `${site.base}/dav/{$basename}.png`, { width: 90, height: 60 }),
  );
  assertEquals(reply.status, 202);
  const job = await imgserve.finished(reply.json.id as string);
  assertEquals([job.state, job.code], ["failed", 305]);
  assert(String(job.error).includes("500"), String(job.error));
});

Deno.test("a form dstURL without a colon after the page is refused as a bad URL", async () => {
  await using source = await sourceFile();
  await using site = uploadSite();
  await using imgserve = await serve();
  const reply = await imgserve.post(
    resizeJob(source.url, `${site.base}/app/upload.html`, { width: 90, field_name: "image" }),
  );
  assertEquals([reply.status, reply.json.code], [400, 106]);
  assertEquals(site.requests, []);
});

Deno.test("HTTPS destinations are trusted through --ca-file, and refused without it", async () => {
  await using dir = await tempDir();
  const certs = await makeTestCerts(dir.path);
  await using source = await sourceFile();
  await using site = uploadSite({ tls: certs });
  const job = resizeJob(source.url, `${site.base}/app/upload.html:{$width}-{$basename}.png`, {
    width: 90,
    height: 60,
    field_name: "image",
  });
  {
    await using untrusting = await serve();
    const reply = await untrusting.post(job);
    assertEquals([reply.status, reply.json.code], [502, 303]);
    assert(/certificate|issuer/i.test(String(reply.json.error)), String(reply.json.error));
    assertEquals(site.uploads.length, 0);
  }
  await using imgserve = await serve(["--ca-file", certs.caFile]);
  const reply = await imgserve.post(job);
  assertEquals(reply.status, 202, JSON.stringify(reply.json));
  await assertPlaceholder((await site.upload(0)).file);
  assertEquals((await imgserve.finished(reply.json.id as string)).state, "done");
  await assertResult((await site.upload(1)).file);
  assertEquals(site.uploads[1].file?.fileName, "90-thirds.png");
});
