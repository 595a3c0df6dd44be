/**
 * Buffers filled from the network have byte caps: a server that sends an
 * endless FTP reply or HTTP response head costs a job a quick, clear
 * failure, not the server's memory. imgserve runs as a process of its own
 * so that its memory is measured apart from the servers here.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { png, thirds } from "../helpers/images.ts";
import { jobState, postJob, resizeJob, waitFinished } from "../helpers/jobs.ts";
import { type ServerProcess, spawnServer } from "../helpers/process.ts";
import { pollUntil } from "../helpers/poll.ts";
import { OPEN_FLAGS, tempDir } from "../helpers/server.ts";
import { startFloodingServer } from "../fixtures/ftp/fake_servers.ts";
import { FLOOD_BOUND } from "../helpers/tcp_server.ts";
import { startFloodingHttpServer } from "../fixtures/http/flooding_server.ts";

/** How much imgserve's peak RSS may grow while it refuses one flood. */
const RSS_GROWTH_BOUND = 48 * 1024 * 1024;
/** A flood must be refused well before this (a stalled one would take the 10 s transfer timeout). */
const FAST_MS = 5000;

async function peakRss(server: ServerProcess): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${server.child.pid}/status`);
  return Number(/^VmHWM:\s+(\d+)/m.exec(status)![1]) * 1024;
}

/** The code and message a job ends with, whether validation refused it or it failed after the reply. */
async function outcome(
  server: ServerProcess,
  body: unknown,
): Promise<{ code: number; error: string; attempts?: number }> {
  const reply = await postJob(server.base, body);
  if (reply.status !== 202) return { code: reply.json.code as number, error: String(reply.json.error) };
  const job = await waitFinished(server.base, reply.json.id as string, 30_000);
  assertEquals(job.state, "failed", JSON.stringify(job));
  return { code: job.code as number, error: String(job.error), attempts: job.attempts as number };
}

Deno.test("endless FTP replies and HTTP response heads fail fast with their codes, and imgserve's memory holds", async (t) => {
  await using dir = await tempDir();
  await Deno.writeFile(`${dir.path}/a.png`, await png(thirds(60, 40)));
  await using imgserve = await spawnServer([
    "--workers",
    "1",
    "--kv",
    ":memory:",
    "--transfer-timeout-ms",
    "10000",
    "--retry-base-ms",
    "20",
    ...OPEN_FLAGS,
  ]);

  await t.step("an FTP greeting of endless 220- lines is refused with 702 at the reply cap", async () => {
    await using ftp = startFloodingServer();
    const before = await peakRss(imgserve);
    const started = performance.now();
    const { code, error } = await outcome(
      imgserve,
      resizeJob(`ftp://127.0.0.1:${ftp.port}/a.png`, `file://${dir.path}/from-ftp.png`, { width: 30 }),
    );
    const ms = performance.now() - started;
    assertEquals(code, 702, error);
    assert(/220 reply over 65536 characters/.test(error), error);
    assert(ms < FAST_MS, `refused after ${ms} ms`);
    assert(ftp.sent() < FLOOD_BOUND / 10, `the server sent ${ftp.sent()} bytes before the client hung up`);
    const growth = (await peakRss(imgserve)) - before;
    assert(growth < RSS_GROWTH_BOUND, `peak RSS grew by ${(growth / 2 ** 20).toFixed(1)} MiB`);
  });

  await t.step("an HTTP source whose response head never ends fails with 211, without retries", async () => {
    await using http = startFloodingHttpServer();
    const before = await peakRss(imgserve);
    const started = performance.now();
    const { code, error, attempts } = await outcome(
      imgserve,
      resizeJob(`${http.base}/a.png`, `file://${dir.path}/from-http.png`, { width: 30 }),
    );
    const ms = performance.now() - started;
    assertEquals(code, 211, error);
    assert(/response head/.test(error), error);
    assertEquals([attempts ?? 1, http.requests()], [1, 1], "refused once, not retried");
    assert(ms < FAST_MS, `refused after ${ms} ms`);
    const growth = (await peakRss(imgserve)) - before;
    assert(growth < RSS_GROWTH_BOUND, `peak RSS grew by ${(growth / 2 ** 20).toFixed(1)} MiB`);
  });

  await t.step("an FTP or HTTP destination sending an endless reply is refused with 702 or 306", async () => {
    await using ftp = startFloodingServer();
    await using http = startFloodingHttpServer();
    const before = await peakRss(imgserve);
    const source = `file://${dir.path}/a.png`;
    const toFtp = await outcome(imgserve, resizeJob(source, `ftp://127.0.0.1:${ftp.port}/out.png`, { width: 30 }));
    assertEquals(toFtp.code, 702, toFtp.error);
    const toHttp = await outcome(imgserve, resizeJob(source, `${http.base}/out.png`, { width: 30 }));
    assertEquals(toHttp.code, 306, toHttp.error);
    assert(/response head over/.test(toHttp.error), toHttp.error);
    assert(ftp.sent() + http.sent() < FLOOD_BOUND / 10, `the servers sent ${ftp.sent()} and ${http.sent()} bytes`);
    const growth = (await peakRss(imgserve)) - before;
    assert(growth < RSS_GROWTH_BOUND, `peak RSS grew by ${(growth / 2 ** 20).toFixed(1)} MiB`);
  });

  await t.step(
    "a callback receiver whose response head never ends gets a clear 306 in the job's callback",
    async () => {
      await using hook = startFloodingHttpServer();
      const before = await peakRss(imgserve);
      const reply = await postJob(imgserve.base, {
        ...resizeJob(`file://${dir.path}/a.png`, `file://${dir.path}/called-back.png`, { width: 30 }),
        callbackURL: `${hook.base}/hook`,
      });
      assertEquals(reply.status, 202, JSON.stringify(reply.json));
      const id = reply.json.id as string;
      const callback = await pollUntil(async () => {
        const { callback } = await jobState(imgserve.base, id) as { callback?: { lastError?: string } };
        return callback?.lastError !== undefined && callback;
      }, { timeoutMs: 20_000, message: "a failed callback attempt" });
      assert(/response head over .*\(code 306\)/.test(callback.lastError!), callback.lastError);
      assert(hook.sent() < FLOOD_BOUND / 10, `the receiver sent ${hook.sent()} bytes`);
      const growth = (await peakRss(imgserve)) - before;
      assert(growth < RSS_GROWTH_BOUND, `peak RSS grew by ${(growth / 2 ** 20).toFixed(1)} MiB`);
    },
  );

  const health = await fetch(`${imgserve.base}/healthz`);
  await health.body?.cancel();
  assertEquals(health.status, 200, "imgserve still answers /healthz");
});
