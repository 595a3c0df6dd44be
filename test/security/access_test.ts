import { assert, assertEquals } from "../helpers/assert.ts";
import { png, thirds } from "../helpers/images.ts";
import { httpServer, serve, tempDir } from "../helpers/server.ts";
import { resizeJob } from "../helpers/jobs.ts";

const job = (srcURL: string, dstURL: string) => resizeJob(srcURL, dstURL, { width: 10 });

Deno.test("a server with no flags refuses every file:// and private-network target", async () => {
  await using dir = await tempDir();
  await Deno.writeFile(`${dir.path}/a.png`, await png(thirds(30, 30)));
  let hits = 0;
  await using src = httpServer(() => {
    hits++;
    return new Response("x");
  });
  await using imgserve = await serve([], { open: false });
  const cases: [string, string, number][] = [
    [`file://${dir.path}/a.png`, `file://${dir.path}/b.png`, 402],
    ["file:///etc/passwd", `file://${dir.path}/b.png`, 402],
    [`${src.base}/a.png`, `file://${dir.path}/b.png`, 404],
    ["http://localhost:1/a.png", "file:///tmp/b.png", 404],
    ["http://169.254.169.254/latest/meta-data", "file:///tmp/b.png", 404],
    ["http://[::1]:1/a.png", "file:///tmp/b.png", 404],
    ["http://10.0.0.1/a.png", "file:///tmp/b.png", 404],
    ["ftp://127.0.0.1/a.png", "file:///tmp/b.png", 404],
    ["ftpes://localhost/a.png", "file:///tmp/b.png", 404],
  ];
  for (const [srcURL, dstURL, code] of cases) {
    const reply = await imgserve.post(job(srcURL, dstURL));
    assertEquals([reply.status, reply.json.code], [403, code], srcURL);
    assert(String(reply.json.error).length > 20);
  }
  await using filesOnly = await serve(["--file-root", dir.path], { open: false });
  const upload = await filesOnly.post(job(`file://${dir.path}/a.png`, `${src.base}/upload/b.png`));
  assertEquals([upload.status, upload.json.code], [403, 404]);
  assertEquals(hits, 0);
  assertEquals([...Deno.readDirSync(dir.path)].map((e) => e.name), ["a.png"]);
});

Deno.test("--file-root opens exactly that folder; --allow-host restricts hosts", async () => {
  await using dir = await tempDir();
  await Deno.mkdir(`${dir.path}/in`);
  await Deno.writeFile(`${dir.path}/in/a.png`, await png(thirds(30, 30)));
  await Deno.writeFile(`${dir.path}/outside.png`, await png(thirds(30, 30)));
  await using imgserve = await serve(
    ["--file-root", `${dir.path}/in`, "--allow-private-networks", "--allow-host", "127.0.0.1"],
    { open: false },
  );
  const inside = await imgserve.post(job(`file://${dir.path}/in/a.png`, `file://${dir.path}/in/out/b.png`));
  assertEquals(inside.status, 202);
  assertEquals((await imgserve.finished(inside.json.id as string)).state, "done");
  const escape = await imgserve.post(job(`file://${dir.path}/in/%2e%2e/outside.png`, `file://${dir.path}/in/c.png`));
  assertEquals([escape.status, escape.json.code], [403, 403]);
  const encodedSlash = await imgserve.post(
    job(`file://${dir.path}/in/x%2F..%2F..%2Foutside.png`, `file://${dir.path}/in/c.png`),
  );
  assertEquals([encodedSlash.status, encodedSlash.json.code], [403, 403]);
  const writeOut = await imgserve.post(job(`file://${dir.path}/in/a.png`, `file://${dir.path}/elsewhere.png`));
  assertEquals([writeOut.status, writeOut.json.code], [403, 403]);
  const otherHost = await imgserve.post(job("http://localhost:9/a.png", `file://${dir.path}/in/d.png`));
  assertEquals([otherHost.status, otherHost.json.code], [403, 405]);
});

Deno.test("--allow-private-networks opens loopback sources", async () => {
  await using dir = await tempDir();
  const source = await png(thirds(30, 30));
  await using src = httpServer(() => new Response(source));
  await using imgserve = await serve(["--file-root", dir.path, "--allow-private-networks"], { open: false });
  const reply = await imgserve.post(job(`${src.base}/a.png`, `file://${dir.path}/a.png`));
  assertEquals(reply.status, 202);
  assertEquals((await imgserve.finished(reply.json.id as string)).state, "done");
});

Deno.test("with --token, requests without the right bearer token get 401 and do nothing", async () => {
  await using dir = await tempDir();
  await Deno.writeFile(`${dir.path}/a.png`, await png(thirds(30, 30)));
  await using imgserve = await serve(["--token", "s3cret"], { token: "s3cret" });
  const body = JSON.stringify(job(`file://${dir.path}/a.png`, `file://${dir.path}/b.png`));
  // Each refusal says which of the three it is: no header, another scheme, the wrong token.
  const attempts: [Record<string, string>, string][] = [
    [{}, "this server needs an Authorization: Bearer <token> header"],
    [{ authorization: "Bearer wrong" }, "the bearer token is wrong"],
    [{ authorization: "Basic czNjcmV0" }, 'the Authorization header must be "Bearer <token>"'],
  ];
  for (const [headers, error] of attempts) {
    const response = await fetch(`${imgserve.base}/`, { method: "POST", body, headers });
    const json = await response.json();
    assertEquals([response.status, json.code, json.error], [401, 401, error]);
  }
  const jobs = await fetch(`${imgserve.base}/jobs/x`);
  assertEquals(jobs.status, 401);
  await jobs.body?.cancel();
  const health = await fetch(`${imgserve.base}/healthz`);
  assertEquals(health.status, 200);
  await health.body?.cancel();
  assertEquals([...Deno.readDirSync(dir.path)].map((e) => e.name), ["a.png"]);
  const ok = await imgserve.post(JSON.parse(body));
  assertEquals(ok.status, 202);
  assertEquals((await imgserve.finished(ok.json.id as string)).state, "done");
});
