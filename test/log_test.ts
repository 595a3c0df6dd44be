import { assert, assertEquals } from "./helpers/assert.ts";
import { httpServer, tempDir } from "./helpers/server.ts";
import { spawnServer } from "./helpers/process.ts";
import { postJob, resizeJob, waitFinished } from "./helpers/jobs.ts";
import { png, thirds } from "./helpers/images.ts";
import { pollUntil } from "./helpers/poll.ts";

const PASSWORD = "pa55-word";

/**
 * Runs a server logging in `format` through three jobs and a refusal: one
 * done (file to file), one whose result upload gets 503 twice (retried,
 * then failed with 305), one outside the file roots; returns its log lines
 * and the two job ids.
 */
async function logOf(format: "text" | "json"): Promise<{ lines: string[]; done: string; failed: string }> {
  await using dir = await tempDir();
  await Deno.writeFile(`${dir.path}/a.png`, await png(thirds(60, 40)));
  let puts = 0;
  await using destination = httpServer(async (request) => {
    await request.body?.cancel();
    return new Response(null, { status: request.method === "PUT" && ++puts === 1 ? 201 : 503 });
  });
  await using server = await spawnServer([
    "--workers",
    "1",
    "--kv",
    ":memory:",
    "--file-root",
    dir.path,
    "--allow-private-networks",
    "--max-attempts",
    "2",
    "--retry-base-ms",
    "50",
    "--log-format",
    format,
  ]);
  const done = await postJob(
    server.base,
    resizeJob(`file://${dir.path}/a.png`, `file://${dir.path}/b.png`, { width: 30 }),
  );
  assertEquals((await waitFinished(server.base, done.json.id as string)).state, "done");
  const dst = destination.base.replace("://", `://user:${PASSWORD}@`) + "/out.png";
  const failed = await postJob(server.base, resizeJob(`file://${dir.path}/a.png`, dst, { width: 30 }));
  assertEquals(failed.status, 202, JSON.stringify(failed.json));
  assertEquals((await waitFinished(server.base, failed.json.id as string)).state, "failed");
  const refused = await postJob(
    server.base,
    resizeJob("file:///etc/hostname", `file://${dir.path}/c.png`, { width: 10 }),
  );
  assertEquals(refused.status, 403);
  // The outcome line follows the journal write that GET /jobs reads.
  await pollUntil(() => server.output().includes("refused"), { timeoutMs: 5000, message: "the refusal logged" });
  return {
    lines: server.output().split("\n"),
    done: done.json.id as string,
    failed: failed.json.id as string,
  };
}

Deno.test("the text log has a line per job outcome (done, retried, failed) and per refused request, without secrets", async () => {
  const { lines, done, failed } = await logOf("text");
  const line = (pattern: RegExp): string => {
    const found = lines.find((l) => pattern.test(l));
    assert(found, `${pattern} in:\n${lines.join("\n")}`);
    return found;
  };
  const doneLine = line(
    new RegExp(`^\\S+Z job done id=${done} op=resize src=file dst=file outputs=1 size=\\d+ attempt=1 `),
  );
  assert(/ accepted=\S+Z started=\S+Z finished=\S+Z ms=\d+$/.test(doneLine), doneLine);
  const retried = line(new RegExp(`job retried id=${failed} op=resize src=file dst=127\\.0\\.0\\.1:\\d+ `));
  assert(/ attempt=1 .* code=305 error=".*503.*" retry_in_ms=50$/.test(retried), retried);
  const failedLine = line(new RegExp(`job failed id=${failed} `));
  assert(/ attempt=2 .* ms=\d+ code=305 error=/.test(failedLine), failedLine);
  line(/request refused method=POST path=\/ status=403 code=403 error=/);
  assert(!lines.join("\n").includes(PASSWORD), "no password in the log");
});

Deno.test("--log-format json writes one JSON object per line with the same fields", async () => {
  const { lines, done, failed } = await logOf("json");
  const entries = lines.filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
  const find = (event: string, id?: string): Record<string, unknown> => {
    const found = entries.find((e) => e.event === event && (id === undefined || e.id === id));
    assert(found, `${event} in:\n${lines.join("\n")}`);
    return found;
  };
  const doneEntry = find("job done", done);
  assertEquals([doneEntry.op, doneEntry.src, doneEntry.dst, doneEntry.attempt], ["resize", "file", "file", 1]);
  assert(typeof doneEntry.size === "number" && typeof doneEntry.ms === "number" && /Z$/.test(String(doneEntry.time)));
  assertEquals(find("job retried", failed).code, 305);
  assertEquals(find("job failed", failed).code, 305);
  assertEquals(find("request refused").status, 403);
  assert(entries.some((e) => typeof e.msg === "string" && e.msg.startsWith("listening on")), "plain messages too");
  assert(!lines.join("\n").includes(PASSWORD), "no password in the log");
});
