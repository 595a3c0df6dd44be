/**
 * Crashes leave nothing of ours behind and lose nothing: a server killed
 * while writing a result, over an existing file, with an in-place job
 * refused just before.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { decode, GREEN, jpeg, near, pixel, png, thirds } from "../helpers/images.ts";
import { spawnServer, waitFinished } from "../helpers/process.ts";
import { tempDir } from "../helpers/server.ts";
import { randomBytes } from "../fixtures/ftp/transfer.ts";

const STALLING_SERVER = new URL("../fixtures/stalling_server.ts", import.meta.url).pathname;

function flags(dir: string): string[] {
  return ["--kv", `${dir}/jobs.kv`, "--file-root", dir, "--lease-ms", "1000", "--workers", "1"];
}

function namesIn(folder: string): string[] {
  return [...Deno.readDirSync(folder)].map((entry) => entry.name).sort();
}

async function post(base: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${base}/`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: response.status, json: await response.json() };
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
    const inPlace = await post(first.base, {
      operationType: "resize",
      srcURL: `file://${dir.path}/w.jpg`,
      dstURL: `file://${dir.path}/w.jpg`,
      args: { width: 30, height: 20 },
    });
    assertEquals([inPlace.status, inPlace.json.code], [409, 115]);
    const reply = await post(first.base, {
      operationType: "resize",
      srcURL: `file://${dir.path}/a.png`,
      dstURL: `file://${dir.path}/out/a.png`,
      args: { width: 90, height: 60 },
    });
    assertEquals(reply.status, 202, JSON.stringify(reply.json));
    id = reply.json.id as string;
    const temp = `${dir.path}/out/.imgserve-${id}.result.tmp`;
    const deadline = Date.now() + 20_000;
    while (!namesIn(`${dir.path}/out`).includes(`.imgserve-${id}.result.tmp`)) {
      assert(Date.now() < deadline, "the result write never started");
      await new Promise((r) => setTimeout(r, 10));
    }
    assertEquals(await first.stop("SIGKILL"), 137);
    assert((await Deno.stat(temp)).size > 0);
  }
  assertEquals(namesIn(`${dir.path}/out`), [`.imgserve-${id}.kept`, `.imgserve-${id}.result.tmp`, "a.png"]);
  await using second = await spawnServer(flags(dir.path));
  const job = await waitFinished(second.base, id);
  assertEquals(job.state, "done", JSON.stringify(job));
  const image = await decode(await Deno.readFile(`${dir.path}/out/a.png`));
  assertEquals([image.width, image.height], [90, 60]);
  assert(near(pixel(image, 45, 30), GREEN));
  assertEquals(namesIn(`${dir.path}/out`), ["a.png"]);
  assertEquals(await Deno.readFile(`${dir.path}/w.jpg`), photo);
});
