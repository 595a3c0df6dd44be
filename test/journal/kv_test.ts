import { assert, assertEquals } from "../helpers/assert.ts";
import type { SingleOutputRecord } from "../../src/journal/mod.ts";
import { KvJournal as Journal } from "../../src/journal/kv.ts";
import { tempDir } from "../helpers/server.ts";
import { jobRecord, TINY_PLAN } from "../helpers/records.ts";
import { ImgserveError } from "../../protocol/error_codes.ts";

Deno.test("of many servers claiming one free job at once, exactly one gets it", async () => {
  await using journal = await Journal.open(":memory:", 60_000);
  await journal.put(jobRecord("j1"));
  const claims = await Promise.all(
    Array.from({ length: 10 }, (_, i) => journal.claim("j1", `server${i}`, 10_000, (r) => !r.owner)),
  );
  assertEquals(claims.filter(Boolean).length, 1);
  const owner = claims.find(Boolean)!.owner!;
  assertEquals((await journal.get("j1"))!.owner, owner);
});

Deno.test("a server that lost its lease can no longer change the job", async () => {
  await using journal = await Journal.open(":memory:", 60_000);
  await journal.put(jobRecord("j2", { owner: "a" }));
  assertEquals(await journal.claim("j2", "b", 1000, (r) => (r.leaseUntil ?? 0) < Date.now()), undefined);
  assertEquals(await journal.update("j2", "a", { leaseUntil: 0 }), true);
  assert(await journal.claim("j2", "b", 1000, (r) => (r.leaseUntil ?? 0) < Date.now()));
  assertEquals(await journal.update("j2", "a", { state: "done" }), false);
  assertEquals((await journal.get("j2"))!.state, "queued");
});

Deno.test("a server's remembered version of a job does not outlive another server taking it over", async () => {
  await using dir = await tempDir();
  await using a = await Journal.open(`${dir.path}/journal.sqlite`, 60_000);
  await using b = await Journal.open(`${dir.path}/journal.sqlite`, 60_000);
  await a.put({ ...jobRecord("j4", { owner: "a" }), leaseUntil: Date.now() - 1 });
  assertEquals(await a.update("j4", "a", { attempts: 2 }), true);
  assert(await b.claim("j4", "b", 60_000, (r) => (r.leaseUntil ?? 0) < Date.now()));
  assertEquals(await a.update("j4", "a", { state: "done" }), false);
  assertEquals(await b.update("j4", "b", { state: "running" }), true);
  const now = (await a.get("j4"))!;
  assertEquals([now.state, now.owner, now.attempts], ["running", "b", 2]);
});

Deno.test("finished jobs leave the open list and are removed after the keep time", async () => {
  await using journal = await Journal.open(":memory:", 50);
  await journal.put(jobRecord("j3", { owner: "a" }));
  await journal.put(jobRecord("j4", { owner: "a" }));
  assertEquals((await journal.openIds()).sort(), ["j3", "j4"]);
  await journal.update("j3", "a", { state: "done", finishedAt: Date.now() });
  assertEquals(await journal.openIds(), ["j4"]);
  assertEquals((await journal.get("j3"))!.state, "done");
  assertEquals(await journal.sweep(Date.now() + 10), 0);
  assertEquals(await journal.sweep(Date.now() + 100), 1);
  assertEquals(await journal.get("j3"), undefined);
  assertEquals((await journal.get("j4"))!.state, "queued");
});

Deno.test("a job journaled by the version before outputs is read as one output and updated in the new shape", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/journal.sqlite`;
  const old: SingleOutputRecord = {
    id: "j5",
    state: "queued",
    dstURL: "file:///tmp/x.png",
    width: 1,
    height: 1,
    plan: TINY_PLAN,
    placeholder: { size: 10, sha256: "ab" },
    kept: true,
    request: {
      operationType: "resize",
      srcURL: "file:///a.png",
      dstTemplate: "file:///x.png",
      args: { mode: "cover" },
    },
    attempts: 1,
    acceptedAt: Date.now(),
  };
  {
    using kv = await Deno.openKv(path);
    await kv.atomic().set(["jobs", "j5"], old).set(["open", "j5"], true).commit();
  }
  await using journal = await Journal.open(path, 60_000);
  const read = (await journal.get("j5"))!;
  assertEquals(read.request.outputs, [{ dstTemplate: "file:///x.png", args: { mode: "cover" } }]);
  assertEquals(read.outputs, [{
    dstURL: "file:///tmp/x.png",
    width: 1,
    height: 1,
    plan: TINY_PLAN,
    state: "pending",
    placeholder: { size: 10, sha256: "ab" },
    kept: true,
  }]);
  assert(await journal.claim("j5", "a", 60_000, (r) => r.outputs.length === 1));
  assert(await journal.update("j5", "a", { state: "done", outputs: [{ ...read.outputs[0], state: "done" }] }));
  using kv = await Deno.openKv(path);
  const stored = (await kv.get<Record<string, unknown>>(["jobs", "j5"])).value!;
  assertEquals(["dstURL" in stored, "plan" in stored, stored.state], [false, false, "done"]);
});

Deno.test("a write refused for its own record is thrown as it is; the journal stays writable and says nothing", async () => {
  const lines: string[] = [];
  await using journal = await Journal.open(":memory:", 60_000, (line) => lines.push(line));
  const huge = { ...jobRecord("j9"), error: { code: 604, message: "x".repeat(70_000) } };
  const err = await journal.put(huge).then(() => undefined, (e) => e);
  assert(err instanceof Error && !(err instanceof ImgserveError), String(err));
  assertEquals(await journal.healthy(), true);
  await journal.assertWritable();
  assertEquals(lines, []);
});
