import { assert, assertEquals } from "./helpers/assert.ts";
import { tempDir } from "./helpers/server.ts";
import { freePort } from "./helpers/ports.ts";
import { pollUntil } from "./helpers/poll.ts";
import { imgserveCli } from "./helpers/process.ts";

const imgserve = imgserveCli;

Deno.test("start, status and stop a background server with the seed's single-dash flags", async () => {
  await using dir = await tempDir();
  const port = freePort();
  const files = ["--pid-file", `${dir.path}/imgserve.pid`, "--log-file", `${dir.path}/log/imgserve.log`];
  const journal = ["--kv", `${dir.path}/jobs.kv`];
  const flags = ["-host", "127.0.0.1", "-port", String(port), "--workers", "1", ...journal, ...files];
  try {
    const started = await imgserve(["start", ...flags]);
    assertEquals(started.code, 0, started.out);
    assert(started.out.includes("imgserve started"), started.out);
    const pid = Number(await Deno.readTextFile(`${dir.path}/imgserve.pid`));
    // Two malloc arenas keep the server's memory from creeping up under load (see serverEnvironment).
    const environ = (await Deno.readTextFile(`/proc/${pid}/environ`)).split("\0");
    assert(environ.includes("MALLOC_ARENA_MAX=2"), "the background server runs with MALLOC_ARENA_MAX=2");
    assert(environ.includes("DENO_V8_FLAGS=--max-semi-space-size=2"), "and with a small young generation");
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    assertEquals(health.status, 200);
    await health.body?.cancel();

    const again = await imgserve(["start", ...flags]);
    assertEquals(again.code, 1);
    assert(again.out.includes(`already running (pid ${pid}`), again.out);

    const status = await imgserve(["status", ...files]);
    assertEquals(status.code, 0);
    assert(status.out.startsWith(`imgserve is running (pid ${pid})\n`), status.out);

    const restarted = await imgserve(["restart", ...flags]);
    assertEquals(restarted.code, 0, restarted.out);
    const newPid = Number(await Deno.readTextFile(`${dir.path}/imgserve.pid`));
    assert(newPid !== pid && restarted.out.includes(`stopped (pid ${pid})`), restarted.out);
    const again2 = await fetch(`http://127.0.0.1:${port}/healthz`);
    assertEquals(again2.status, 200);
    await again2.body?.cancel();

    const stopped = await imgserve(["stop", ...files]);
    assertEquals(stopped.code, 0);
    assert(stopped.out.includes("stopped"), stopped.out);
    await assertRefused(port);
    const log = await Deno.readTextFile(`${dir.path}/log/imgserve.log`);
    assert(log.includes("listening on 127.0.0.1") && log.includes("SIGTERM"), log);

    const notRunning = await imgserve(["stop", ...files]);
    assert(notRunning.out.includes("not running"), notRunning.out);
    assertEquals((await imgserve(["status", ...files])).code, 3);
  } finally {
    await imgserve(["stop", ...files]);
  }
});

Deno.test("a stale pid file is reported by status and cleared by start", async () => {
  await using dir = await tempDir();
  const files = ["--pid-file", `${dir.path}/imgserve.pid`, "--log-file", `${dir.path}/imgserve.log`];
  // A pid that cannot belong to a running process on Linux (above pid_max).
  await Deno.writeTextFile(`${dir.path}/imgserve.pid`, "4194305\n");
  const status = await imgserve(["status", ...files]);
  assertEquals(status.code, 1);
  assert(status.out.includes("stale"), status.out);
  const port = freePort();
  try {
    const started = await imgserve([
      "start",
      "--host",
      "127.0.0.1",
      "--port",
      String(port),
      "--workers",
      "1",
      "--kv",
      `${dir.path}/jobs.kv`,
      ...files,
    ]);
    assertEquals(started.code, 0, started.out);
    assert(started.out.includes("removed a stale pid file"), started.out);
  } finally {
    await imgserve(["stop", ...files]);
  }
});

Deno.test("--help lists every flag; a bad flag is a usage error", async () => {
  const help = await imgserve(["--help"]);
  assertEquals(help.code, 0);
  for (const flag of ["-host", "-port", "--workers", "--font-dir", "--ca-file", "--pid-file", "--log-file"]) {
    assert(help.out.includes(flag), flag);
  }
  const bad = await imgserve(["run", "--colour", "red"]);
  assertEquals(bad.code, 2);
  assert(bad.out.includes("colour"), bad.out);
});

async function assertRefused(port: number): Promise<void> {
  try {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conn.close();
  } catch {
    return;
  }
  throw new Error(`port ${port} still accepts connections`);
}

Deno.test("the app runs under `deno serve` and exits on SIGTERM", async () => {
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["serve", "-A", "--port", String(port), new URL("../src/serve.ts", import.meta.url).pathname],
    env: { IMGSERVE_KV: ":memory:", IMGSERVE_WORKERS: "1" },
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    const health = await pollUntil(
      () => fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined),
      { timeoutMs: 15_000, intervalMs: 50, message: "deno serve answering /healthz" },
    );
    assertEquals(health?.status, 200);
    await health?.body?.cancel();
    child.kill("SIGTERM");
    assertEquals((await child.status).code, 0);
  } catch (err) {
    child.kill("SIGKILL");
    await child.status;
    throw err;
  }
});

Deno.test("deno serve without -A, or with a bad IMGSERVE_ variable, stops with one line and no stack trace", async () => {
  const serve = async (args: string[], env: Record<string, string> = {}) => {
    const { code, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["serve", ...args, "--port", String(freePort()), "src/serve.ts"],
      cwd: new URL("..", import.meta.url).pathname,
      env: { NO_COLOR: "1", ...env },
      stdout: "null",
      stderr: "piped",
      signal: AbortSignal.timeout(30_000),
    }).output();
    return { code, err: new TextDecoder().decode(stderr).trim() };
  };
  const bare = await serve([]);
  assertEquals(bare.code, 1, bare.err);
  assert(
    /^imgserve: deno serve needs every permission \(.*\); run it as deno serve -A src\/serve\.ts$/.test(bare.err),
    bare.err,
  );
  const bad = await serve(["-A"], { IMGSERVE_WORKERS: "0" });
  assertEquals([bad.code, bad.err.split("\n").length], [2, 1], bad.err);
  assert(bad.err.startsWith('imgserve: IMGSERVE_WORKERS must be a whole number >= 1, not "0"'), bad.err);
});
