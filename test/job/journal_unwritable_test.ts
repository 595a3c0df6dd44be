/**
 * A journal that cannot be written, as on a full disk. Without root (no
 * small tmpfs), the server process's file-size limit (RLIMIT_FSIZE, set
 * with `prlimit --pid` while it runs) makes every KV write fail: SQLite
 * reports the write's EFBIG as "disk I/O error" where a full disk's ENOSPC
 * gives "database or disk is full", both thrown by the same commit. The
 * server ignores SIGXFSZ (as a shell's `trap ''` passes on), else the
 * first such write would kill it. Placeholders of a few hundred bytes
 * stay under the 2 KiB limit; the journal's next write does not.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { decode, png, thirds } from "../helpers/images.ts";
import { postJob, resizeJob, waitFinished } from "../helpers/jobs.ts";
import { spawnServer } from "../helpers/process.ts";
import { tempDir } from "../helpers/server.ts";
import { namesIn } from "../helpers/files.ts";

/** Sets the soft file-size limit of process `pid`; throws, saying why, when prlimit cannot. */
async function fileSizeLimit(pid: number, bytes: number | "unlimited"): Promise<void> {
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command("prlimit", { args: ["--pid", String(pid), `--fsize=${bytes}:`] }).output();
  } catch (err) {
    throw new Error(`this test needs prlimit (util-linux) to limit the server's file size: ${err}`);
  }
  if (!output.success) throw new Error(`prlimit failed: ${new TextDecoder().decode(output.stderr)}`);
}

async function health(base: string): Promise<[number, boolean]> {
  const response = await fetch(`${base}/healthz`);
  return [response.status, (await response.json()).journal];
}

Deno.test("a journal that cannot be written refuses jobs with 503/509, leaves every destination as it was, shows in /healthz and once in the log, and recovers by itself", async () => {
  await using dir = await tempDir();
  const out = `${dir.path}/out`;
  await Deno.mkdir(out);
  await Deno.writeFile(`${dir.path}/a.png`, await png(thirds(60, 40)));
  const earlier = await png(thirds(30, 20));
  await Deno.writeFile(`${out}/existing.png`, earlier);
  const to = (name: string) => `file://${out}/${name}`;
  const job = (name: string) => resizeJob(`file://${dir.path}/a.png`, to(name), { width: 12 });
  await using server = await spawnServer(
    ["--data-dir", `${dir.path}/data`, "--file-root", dir.path, "--workers", "1"],
    { ignore: ["XFSZ"] },
  );
  const first = await postJob(server.base, job("before.png"));
  assertEquals((await waitFinished(server.base, String(first.json.id))).state, "done");

  await fileSizeLimit(server.child.pid, 2048);
  try {
    // Both placeholders are written before the journal refuses: the new one goes, the earlier file comes back.
    const both = await postJob(server.base, {
      operationType: "resize",
      srcURL: `file://${dir.path}/a.png`,
      outputs: [{ dstURL: to("new1.png"), args: { width: 12 } }, { dstURL: to("existing.png"), args: { width: 9 } }],
    });
    // Refused before anything is written, while the journal still cannot be written.
    const again = await postJob(server.base, job("new2.png"));
    const existing = await postJob(server.base, job("existing.png"));
    for (const reply of [both, again, existing]) {
      assertEquals([reply.status, reply.json.code], [503, 509], JSON.stringify(reply.json));
      assertEquals(reply.headers.get("retry-after"), "5");
    }
    assertEquals(namesIn(out), ["before.png", "existing.png"]);
    assertEquals(await Deno.readFile(`${out}/existing.png`), earlier);
    assertEquals(await health(server.base), [503, false]);
  } finally {
    await fileSizeLimit(server.child.pid, "unlimited");
  }
  assertEquals(await health(server.base), [200, true]);
  const after = await postJob(server.base, job("after.png"));
  assertEquals(after.status, 202, JSON.stringify(after.json));
  assertEquals((await waitFinished(server.base, String(after.json.id))).state, "done");
  assertEquals((await decode(await Deno.readFile(`${out}/after.png`))).width, 12);

  const lines = server.output().split("\n");
  const failing = lines.filter((line) => /journal .* cannot be written \(disk I\/O error\)/.test(line));
  const recovered = lines.filter((line) => /journal .* can be written again/.test(line));
  assertEquals([failing.length, recovered.length], [1, 1], server.output());
  assert(!server.output().includes("internal error"), server.output());
});
