import { assert, assertEquals } from "../helpers/assert.ts";
import { png, thirds } from "../helpers/images.ts";
import { assertHealthy, httpServer, serve, tempDir } from "../helpers/server.ts";
import { resizeJob } from "../helpers/jobs.ts";

const job = (srcURL: string, dstURL: string, more: Record<string, unknown> = {}) => ({
  ...resizeJob(srcURL, dstURL, { width: 10 }),
  ...more,
});

Deno.test("IPv6 forms that embed a loopback IPv4 address are refused as private (404)", async () => {
  let hits = 0;
  await using src = httpServer(() => {
    hits++;
    return new Response("x");
  });
  const port = new URL(src.base).port;
  await using imgserve = await serve([], { open: false });
  for (
    const host of [
      "[::127.0.0.1]",
      "[::ffff:127.0.0.1]",
      "[2002:7f00:1::]",
      "[2001:0:4136:e378:8000:63bf:80ff:fffe]",
      "[64:ff9b::7f00:1]",
    ]
  ) {
    const reply = await imgserve.post(job(`http://${host}:${port}/a.png`, "file:///tmp/b.png"));
    assertEquals([reply.status, reply.json.code], [403, 404], host);
  }
  assertEquals(hits, 0);
  await assertHealthy(imgserve.base);
});

Deno.test("POST / takes only application/json (109); CORS headers only for --cors-origin origins", async () => {
  await using dir = await tempDir();
  await Deno.writeFile(`${dir.path}/a.png`, await png(thirds(30, 30)));
  const body = JSON.stringify(job(`file://${dir.path}/a.png`, `file://${dir.path}/b.png`));
  await using imgserve = await serve();
  for (const type of ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", null]) {
    const response = await fetch(`${imgserve.base}/`, {
      method: "POST",
      body: new TextEncoder().encode(body),
      headers: type ? { "content-type": type, origin: "https://evil.example" } : {},
    });
    const json = await response.json();
    assertEquals([response.status, json.code], [415, 109], String(type));
    assertEquals(response.headers.get("access-control-allow-origin"), null);
  }
  assertEquals([...Deno.readDirSync(dir.path)].map((e) => e.name), ["a.png"]);
  const charset = await fetch(`${imgserve.base}/`, {
    method: "POST",
    body,
    headers: { "content-type": "Application/JSON; charset=utf-8" },
  });
  const accepted = await charset.json();
  assertEquals(charset.status, 202, JSON.stringify(accepted));
  assertEquals((await imgserve.finished(accepted.id)).state, "done");
  const preflight = await fetch(`${imgserve.base}/`, {
    method: "OPTIONS",
    headers: { origin: "https://evil.example", "access-control-request-method": "POST" },
  });
  await preflight.body?.cancel();
  assertEquals(preflight.headers.get("access-control-allow-origin"), null);

  await using open = await serve(["--cors-origin", "https://app.example"]);
  const allowed = await fetch(`${open.base}/`, {
    method: "OPTIONS",
    headers: { origin: "https://app.example", "access-control-request-method": "POST" },
  });
  await allowed.body?.cancel();
  assertEquals(allowed.headers.get("access-control-allow-origin"), "https://app.example");
  const other = await fetch(`${open.base}/healthz`, { headers: { origin: "https://evil.example" } });
  await other.body?.cancel();
  assert(other.headers.get("access-control-allow-origin") !== "https://evil.example");
  await assertHealthy(imgserve.base);
});

Deno.test("callbackURL is checked on submit: scheme (107), length (106), network rules (404, 405)", async () => {
  await using dir = await tempDir();
  await Deno.writeFile(`${dir.path}/a.png`, await png(thirds(30, 30)));
  const submit =
    (server: { post: (b: unknown) => Promise<{ status: number; json: Record<string, unknown> }> }) =>
    (callbackURL: string) =>
      server.post(job(`file://${dir.path}/a.png`, `file://${dir.path}/out/b.png`, { callbackURL }));
  await using closed = await serve(["--file-root", dir.path], { open: false });
  const post = submit(closed);
  const cases: [string, number, number][] = [
    ["file:///tmp/x", 400, 107],
    ["gopher://example.com/x", 400, 107],
    [`https://example.com/${"a".repeat(60 * 1024)}`, 400, 106],
    ["http://127.0.0.1:9/cb", 403, 404],
    ["http://[::1]:9/cb", 403, 404],
    ["http://169.254.169.254/cb", 403, 404],
  ];
  for (const [url, status, code] of cases) {
    const reply = await post(url);
    assertEquals([reply.status, reply.json.code], [status, code], url.slice(0, 40));
    assert(String(reply.json.error).length < 300);
  }
  await using listed = await serve(["--file-root", dir.path, "--allow-host", "hooks.example"], { open: false });
  const notListed = await submit(listed)("https://other.example/cb");
  assertEquals([notListed.status, notListed.json.code], [403, 405]);
  assertEquals([...Deno.readDirSync(dir.path)].map((e) => e.name), ["a.png"]);
  await assertHealthy(closed.base);
});

Deno.test("control characters, lone surrogates and names too long for the temporary name get 1xx codes", async () => {
  await using dir = await tempDir();
  await Deno.writeFile(`${dir.path}/a.png`, await png(thirds(30, 30)));
  await using imgserve = await serve();
  const src = `file://${dir.path}/a.png`;
  const out = `file://${dir.path}/out`;
  const cases: [string, string, number][] = [
    [src, `${out}/a%00b.png`, 106],
    [src, `${out}/a\u0000b.png`, 106],
    [src, `${out}/a\u001bb.png`, 106],
    [src, `${out}/a%7Fb.png`, 106],
    [src, `${out}/a\ud800b.png`, 106],
    [src, `${out}/a\udc00.png`, 106],
    [`file://${dir.path}/a%00.png`, `${out}/b.png`, 106],
    [src, `${out}/${"n".repeat(238)}.png`, 108],
    [src, `${out}/${"n".repeat(251)}.png`, 108],
    [src, `ftp://127.0.0.1:9/${"n".repeat(229)}.png`, 108],
  ];
  for (const [srcURL, dstURL, code] of cases) {
    const reply = await imgserve.post(job(srcURL, dstURL));
    assertEquals([reply.status, reply.json.code], [400, code], dstURL.slice(-20));
    assert(!String(reply.json.error).includes(".tmp"), String(reply.json.error));
  }
  // The longest name that fits with its temporary suffix is written.
  const longest = `${"n".repeat(237)}.png`;
  const ok = await imgserve.post(job(src, `${out}/${longest}`));
  assertEquals(ok.status, 202, JSON.stringify(ok.json));
  assertEquals((await imgserve.finished(ok.json.id as string)).state, "done");
  assertEquals([...Deno.readDirSync(`${dir.path}/out`)].map((e) => e.name), [longest]);
  await assertHealthy(imgserve.base);
});
