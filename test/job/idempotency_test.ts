import { assert, assertEquals } from "../helpers/assert.ts";
import { serve, tempDir } from "../helpers/server.ts";
import { postJob, resizeJob } from "../helpers/jobs.ts";
import { pollUntil } from "../helpers/poll.ts";

const PHOTO = "/usr/share/backgrounds/mate/nature/FreshFlower.jpg";

async function listed(base: string): Promise<string[]> {
  const { jobs } = await (await fetch(`${base}/jobs?limit=500`)).json();
  return jobs.map((job: { id: string }) => job.id);
}

Deno.test("an Idempotency-Key sent again with the same body gets the first reply and creates nothing; another body gets 422", async () => {
  await using dir = await tempDir();
  await Deno.copyFile(PHOTO, `${dir.path}/flower.jpg`);
  await using imgserve = await serve();
  const body = resizeJob(`file://${dir.path}/flower.jpg`, `file://${dir.path}/small.jpg`, { width: 80 });
  const key = { "idempotency-key": "order-4711" };
  const first = await postJob(imgserve.base, body, key);
  assertEquals(first.status, 202, JSON.stringify(first.json));
  assertEquals((await imgserve.finished(first.json.id as string)).state, "done");
  const again = await postJob(imgserve.base, body, key);
  assertEquals([again.status, again.json, again.headers.get("location")], [202, first.json, `/jobs/${first.json.id}`]);
  assertEquals(again.headers.get("idempotent-replayed"), "true");
  assertEquals(await listed(imgserve.base), [first.json.id]);

  const other = await postJob(imgserve.base, { ...body, args: { width: 81 } }, key);
  assertEquals([other.status, other.json.code], [422, 122]);
  const bad = await postJob(imgserve.base, body, { "idempotency-key": "" });
  assertEquals([bad.status, bad.json.code], [400, 126]);
  // A refused request frees its key: sent again once fixed, it runs.
  const refused = await postJob(imgserve.base, { ...body, args: { width: -1 } }, { "idempotency-key": "k2" });
  assertEquals(refused.status, 400);
  const fixed = await postJob(imgserve.base, { ...body, args: { width: 60 } }, { "idempotency-key": "k2" });
  assertEquals(fixed.status, 202, JSON.stringify(fixed.json));
  assertEquals(await listed(imgserve.base), [fixed.json.id, first.json.id]);
  await imgserve.finished(fixed.json.id as string);
});

Deno.test("simultaneous posts with one Idempotency-Key create one job, and all get its reply", async () => {
  await using dir = await tempDir();
  await Deno.copyFile(PHOTO, `${dir.path}/flower.jpg`);
  await using imgserve = await serve();
  const body = resizeJob(`file://${dir.path}/flower.jpg`, `file://${dir.path}/small.jpg`, { width: 80 });
  const replies = await Promise.all(
    Array.from({ length: 8 }, () => postJob(imgserve.base, body, { "idempotency-key": "same" })),
  );
  assertEquals(replies.map((r) => r.status), Array(8).fill(202));
  const ids = new Set(replies.map((r) => r.json.id));
  assertEquals(ids.size, 1, `ids: ${[...ids].join(", ")}`);
  assertEquals(replies.filter((r) => r.headers.get("idempotent-replayed") === null).length, 1);
  await pollUntil(async () => (await listed(imgserve.base)).length > 0, { message: "the job listed" });
  assertEquals(await listed(imgserve.base), [...ids]);
  assert((await imgserve.finished([...ids][0] as string)).state === "done");
});
