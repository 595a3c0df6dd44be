import { assert, assertEquals } from "./helpers/assert.ts";
import { tempDir } from "./helpers/server.ts";
import { freePort } from "./helpers/ports.ts";
import { imgserveCli as imgserve } from "./helpers/process.ts";
import { postJob, resizeJob, waitFinished } from "./helpers/jobs.ts";
import { png, thirds } from "./helpers/images.ts";

const TOKEN = "s3cret-Token.value";

/** The background server's pid, command line (as `ps` shows it) and environment. */
async function processOf(pidFile: string): Promise<{ pid: number; cmdline: string; ps: string }> {
  const pid = Number(await Deno.readTextFile(pidFile));
  const cmdline = (await Deno.readTextFile(`/proc/${pid}/cmdline`)).replaceAll("\0", " ");
  const ps = new TextDecoder().decode(
    (await new Deno.Command("ps", { args: ["-o", "args=", "-p", String(pid)] }).output()).stdout,
  );
  return { pid, cmdline, ps };
}

/** `start` in `dir` (its pid and log files there) on 127.0.0.1 with one worker, and `flags`. */
function startFlags(dir: string, flags: string[]): string[] {
  const files = ["--pid-file", `${dir}/imgserve.pid`, "--log-file", `${dir}/imgserve.log`];
  return ["start", ...files, "--host", "127.0.0.1", "--workers", "1", ...flags];
}

Deno.test("restart without flags starts the server with the flags and variables of its start: --file-root and --token-file stay", async () => {
  await using dir = await tempDir();
  const photos = `${dir.path}/photos`;
  await Deno.mkdir(photos);
  await Deno.writeFile(`${photos}/a.png`, await png(thirds(60, 40)));
  await Deno.writeTextFile(`${dir.path}/token`, `${TOKEN}\n`);
  const pidFile = ["--pid-file", `${dir.path}/imgserve.pid`];
  const port = freePort();
  const base = `http://127.0.0.1:${port}`;
  const started = await imgserve(
    startFlags(dir.path, ["--kv", `${dir.path}/jobs.kv`, "--file-root", photos, "--token-file", `${dir.path}/token`]),
    { IMGSERVE_PORT: String(port) },
  );
  try {
    assertEquals(started.code, 0, started.out);
    const settings = await Deno.stat(`${dir.path}/imgserve.settings.json`);
    assertEquals(settings.mode! & 0o777, 0o600, "the settings file is its owner's only");

    const restarted = await imgserve(["restart", ...pidFile]);
    assertEquals(restarted.code, 0, restarted.out);
    assert(restarted.out.includes("with the settings in"), restarted.out);

    const auth = { authorization: `Bearer ${TOKEN}` };
    assertEquals((await postJob(base, resizeJob(`file://${photos}/a.png`, `file://${photos}/b.png`))).status, 401);
    const { status, json } = await postJob(
      base,
      resizeJob(`file://${photos}/a.png`, `file://${photos}/b.png`, { width: 30 }),
      auth,
    );
    assertEquals(status, 202, JSON.stringify(json));
    assertEquals((await waitFinished(base, json.id as string, 30_000, auth)).state, "done");

    const shown = await imgserve(["status", ...pidFile]);
    assertEquals(shown.code, 0);
    assert(
      shown.out.includes(`--file-root ${photos}`) && shown.out.includes(`--token-file ${dir.path}/token`),
      shown.out,
    );
    assert(shown.out.includes(`IMGSERVE_PORT=${port}`), shown.out);
    assert(!shown.out.includes(TOKEN), "status never prints the token");
  } finally {
    await imgserve(["stop", ...pidFile]);
  }
});

Deno.test("a --token flag is kept out of the background server's command line (ps, /proc), with a warning", async () => {
  await using dir = await tempDir();
  const pidFile = ["--pid-file", `${dir.path}/imgserve.pid`];
  const port = freePort();
  const started = await imgserve(startFlags(dir.path, ["--port", String(port), "--kv", ":memory:", "--token", TOKEN]));
  try {
    assertEquals(started.code, 0, started.out);
    assert(/warning: --token on the command line .*--token-file FILE or IMGSERVE_TOKEN/.test(started.out), started.out);
    const { cmdline, ps } = await processOf(`${dir.path}/imgserve.pid`);
    assert(cmdline.includes("main.ts run") && !cmdline.includes(TOKEN), `no token in /proc/PID/cmdline: ${cmdline}`);
    assert(ps.includes("main.ts run") && !ps.includes(TOKEN), `no token in ps: ${ps}`);
    const refused = await fetch(`http://127.0.0.1:${port}/jobs/x`);
    await refused.body?.cancel();
    assertEquals(refused.status, 401, "the token still guards the server");
    const shown = await imgserve(["status", ...pidFile]);
    assert(shown.out.includes("IMGSERVE_TOKEN=(hidden)") && !shown.out.includes(TOKEN), shown.out);
  } finally {
    await imgserve(["stop", ...pidFile]);
  }
});

Deno.test("IMGSERVE_TOKEN_FILE works as --token-file; an unreadable or malformed one stops the start with one line", async () => {
  await using dir = await tempDir();
  await Deno.writeTextFile(`${dir.path}/bad`, "two words\n");
  const common = ["run", "--host", "127.0.0.1", "--port", "0", "--kv", ":memory:", "--workers", "1"];
  const missing = await imgserve(common, { IMGSERVE_TOKEN_FILE: `${dir.path}/none` });
  assertEquals(missing.code, 1);
  assertEquals(
    missing.out.trim(),
    `imgserve: --token-file ${dir.path}/none: cannot be read (No such file or directory); ` +
      "give a readable file holding the token",
  );
  const bad = await imgserve([...common, "--token-file", `${dir.path}/bad`]);
  assertEquals(bad.code, 1);
  assert(bad.out.trim().split("\n").length === 1 && bad.out.includes("may hold only letters"), bad.out);
  assert(!bad.out.includes("two words"), "the message does not repeat the file's content");
});
