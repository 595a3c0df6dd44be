/**
 * The bookkeeping behind a claim ahead on a shared journal: which jobs
 * heard of may still wait unowned after a claim, and when the next claim
 * may take one ahead of a free worker.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { AHEAD_AFTER_MS, ClaimAhead } from "../../src/job/claim_ahead.ts";

const never = () => {
  throw new Error("no scan expected");
};

Deno.test("a job heard of while every worker is busy may be claimed ahead only once it has waited AHEAD_AFTER_MS", () => {
  const ahead = new ClaimAhead(never);
  assertEquals(ahead.due(1000), false, "nothing heard of");
  ahead.heard(1000);
  assertEquals(ahead.due(1000 + AHEAD_AFTER_MS - 1), false, "an idle server may still claim it");
  assertEquals(ahead.due(1000 + AHEAD_AFTER_MS), true);
});

Deno.test("after a claim ahead with room left, only jobs announced after its cutoff still wait", () => {
  const ahead = new ClaimAhead(never);
  ahead.heard(0);
  let start = AHEAD_AFTER_MS + 5;
  ahead.settle(ahead.take(), start, true, true);
  assertEquals(ahead.due(10_000), false, "the one job heard of was claimed");

  ahead.heard(100);
  ahead.heard(100 + AHEAD_AFTER_MS); // too young for the claim that starts now
  start = 100 + AHEAD_AFTER_MS + 1;
  ahead.settle(ahead.take(), start, true, true);
  assertEquals(ahead.due(start), false, "the younger job waits its own time");
  assertEquals(ahead.due(100 + 2 * AHEAD_AFTER_MS), true);
});

Deno.test("a claim ahead that filled its room leaves the oldest waiting only if more than one job was announced", () => {
  const one = new ClaimAhead(never);
  one.heard(0);
  one.settle(one.take(), AHEAD_AFTER_MS, true, false);
  assertEquals(one.due(10_000), false, "the one job heard of is the one claimed: a freed slot asks nothing");

  const two = new ClaimAhead(never);
  two.heard(0);
  two.heard(5);
  two.settle(two.take(), AHEAD_AFTER_MS, true, false);
  assertEquals(two.due(AHEAD_AFTER_MS), true, "the next slot to free claims the other at once");
});

Deno.test("a job announced during a claim is not lost, and a claim of every free job clears the older ones", () => {
  const ahead = new ClaimAhead(never);
  ahead.heard(0);
  const since = ahead.take();
  ahead.heard(40); // its NOTIFY came while the claim's query ran
  ahead.settle(since, 35, false, true);
  assertEquals([ahead.due(40 + AHEAD_AFTER_MS - 1), ahead.due(40 + AHEAD_AFTER_MS)], [false, true]);
});

Deno.test("armed, the scan runs once the job heard of first has waited; stopped, it does not", async () => {
  const scanned = Promise.withResolvers<number>();
  const ahead = new ClaimAhead(() => scanned.resolve(performance.now()));
  const heardAt = performance.now();
  ahead.heard(heardAt);
  ahead.arm();
  ahead.arm(); // one timer
  assert(await scanned.promise - heardAt >= AHEAD_AFTER_MS - 1, "not before the wait");

  const stopped = new ClaimAhead(never);
  stopped.heard();
  stopped.arm();
  stopped.stop();
  await new Promise((r) => setTimeout(r, AHEAD_AFTER_MS + 20));
});
