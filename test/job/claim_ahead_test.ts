/**
 * The bookkeeping behind a claim ahead on a shared journal: which jobs
 * heard of may still wait unowned after a claim or another server's, and
 * when the next claim may take one ahead of a free worker.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { AHEAD_AFTER_MS, ClaimAhead } from "../../src/job/claim_ahead.ts";

const never = () => {
  throw new Error("no scan expected");
};

Deno.test("a job left while every worker is busy may be claimed ahead once it has waited AHEAD_AFTER_MS, another server's twice that", () => {
  const ahead = new ClaimAhead(never);
  assertEquals(ahead.due(1000), false, "nothing heard of");
  ahead.heard({ id: "theirs", own: false }, 1000);
  assertEquals(ahead.due(1000 + AHEAD_AFTER_MS), false, "its own server claims it first");
  assertEquals(ahead.due(1000 + 2 * AHEAD_AFTER_MS), true);
  ahead.heard({ id: "mine", own: true }, 1010);
  assertEquals(ahead.due(1010 + AHEAD_AFTER_MS - 1), false, "an idle server may still claim it");
  assertEquals(ahead.due(1010 + AHEAD_AFTER_MS), true);
  ahead.heard(undefined, 1020); // a job handed back: no id
  ahead.claimed("mine");
  ahead.claimed("theirs");
  assertEquals([ahead.due(1020 + AHEAD_AFTER_MS - 1), ahead.due(1020 + AHEAD_AFTER_MS)], [false, true]);
});

Deno.test("a job another server claimed is not waited for: a busy server asks nothing for it", () => {
  const ahead = new ClaimAhead(never);
  ahead.heard({ id: "j", own: true }, 0);
  ahead.claimed("j");
  assertEquals(ahead.due(10_000), false);
});

Deno.test("after a claim with room left, only jobs heard of after its cutoff still wait; with none left, the others wait", () => {
  const ahead = new ClaimAhead(never);
  ahead.heard({ id: "old", own: true }, 0);
  ahead.heard({ id: "taken elsewhere", own: true }, 1);
  ahead.heard({ id: "young", own: true }, 50);
  const start = 60;
  ahead.settle(["old"], start, true, false);
  assertEquals(ahead.due(start), true, "no room left: the one taken elsewhere may still wait");
  ahead.settle([], start, true, true);
  assertEquals(ahead.due(start), false, "its announcement is on its way: no claim for it");
  assertEquals(ahead.due(50 + AHEAD_AFTER_MS), true, "the young one waits its own time");
  ahead.settle([], 100, false, true); // a free worker's claim takes every job heard of before it
  assertEquals(ahead.due(10_000), false);
});

Deno.test("armed, the scan runs once the first job heard of may be claimed ahead; stopped, or claimed elsewhere, it does not", async () => {
  const scanned = Promise.withResolvers<number>();
  const ahead = new ClaimAhead(() => scanned.resolve(performance.now()));
  const heardAt = performance.now();
  ahead.heard({ id: "j", own: true }, heardAt);
  ahead.arm();
  ahead.arm(); // one timer
  assert(await scanned.promise - heardAt >= AHEAD_AFTER_MS - 1, "not before the wait");

  const stopped = new ClaimAhead(never);
  stopped.heard({ id: "j", own: true });
  stopped.arm();
  stopped.stop();
  const gone = new ClaimAhead(never);
  gone.heard({ id: "j", own: true });
  gone.arm();
  gone.claimed("j");
  await new Promise((r) => setTimeout(r, AHEAD_AFTER_MS + 20));
});
