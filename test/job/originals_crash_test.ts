/**
 * Crashes leave nothing of ours behind and lose nothing: a server killed
 * while writing a result, over an existing file, with an in-place job
 * refused just before.
 */
import { journalFlags } from "../fixtures/postgres.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import { assertImage, GREEN, jpeg, png, thirds } from "../helpers/images.ts";
import { spawnServer, waitFinished } from "../helpers/process.ts";
import { tempDir } from "../helpers/server.ts";
import { randomBytes } from "../fixtures/ftp/transfer.ts";
import { postJob, resizeJob } from "../helpers/jobs.ts";
import { pollUntil } from "../helpers/poll.ts";
import { namesIn } from "../helpers/files.ts";

const STALLING_SERVER = new URL("../fixtures/stalling_server.ts", import.meta.url).pathname;

function flags(dir: string): string[] {
  return [...journalFlags(dir), "--file-root", dir, "--lease-ms", "1000", "--workers", "1"];
}

function statSize(path: string): number {
  try {
    return Deno.statSync(path).size;
  } catch {
    return 0;
  }
}

Deno.test("SIGKILL during a result write over an existing file: after a restart the job is done and no file of ours remains", async () => {
  await using dir = await tempDir();
  await Deno.writeFile(`${dir.path}/a.png`, await png(thirds(300, 200)));
  const photo = await jpeg(thirds(300, 200));
  await Deno.writeFile(`${dir.path}/w.jpg`, photo);
  await Deno.mkdir(`${dir.path}/out`);
  await Deno.writeFile(`${dir.path}/out/a.png`, randomBytes(4000));
  let id: string;
  {
    await using first = await spawnServer(flags(dir.path), { main: STALLING_SERVER });
    // An in-place job is never accepted, so a crash cannot reach its photo.
    const inPlace = await postJob(
      first.base,
      resizeJob(`file://${dir.path}/w.jpg`, `file://${dir.path}/w.jpg`, { width: 30, height: 20 }),
    );
    assertEquals([inPlace.status, inPlace.json.code], [409, 115]);
    const reply = await postJob(
      first.base,
      resizeJob(`file://${dir.path}/a.png`, `file://${dir.path}/out/a.png`, { width: 90, height: 60 }),
    );
    assertEquals(reply.status, 202, JSON.stringify(reply.json));
    id = reply.json.id as string;
    const temp = `${dir.path}/out/.imgserve-${id}.result.tmp`;
    // The name appears when the file is opened, before its bytes: wait for them, as the worker stalls after writing.
    await pollUntil(() => namesIn(`${dir.path}/out`).includes(`.imgserve-${id}.result.tmp`) && statSize(temp) > 0, {
      timeoutMs: 20_000,
      intervalMs: 10,
      message: "the result written to its temporary file",
    });
    assertEquals(await first.stop("SIGKILL"), 137);
    assert((await Deno.stat(temp)).size > 0);
  }
  assertEquals(namesIn(`${dir.path}/out`), [`.imgserve-${id}.kept`, `.imgserve-${id}.result.tmp`, "a.png"]);
  await using second = await spawnServer(flags(dir.path));
  const job = await waitFinished(second.base, id);
  assertEquals(job.state, "done", JSON.stringify(job));
  await assertImage(await Deno.readFile(`${dir.path}/out/a.png`), { width: 90, height: 60, centre: GREEN });
  assertEquals(namesIn(`${dir.path}/out`), ["a.png"]);
  assertEquals(await Deno.readFile(`${dir.path}/w.jpg`), photo);
});
