/** The queue slots a request takes, beside the journal scan that takes one for each claim. */
import { assertEquals, assertRejects } from "../helpers/assert.ts";
import { KvJournal } from "../../src/journal/kv.ts";
import type { Journal } from "../../src/journal/mod.ts";
import { Scheduler } from "../../src/job/scheduler.ts";
import { testConfig } from "../helpers/server.ts";
import { ImgserveError } from "../../protocol/error_codes.ts";
import type { JobRecord } from "../../src/journal/mod.ts";
import { jobRecord } from "../helpers/records.ts";

/** The real journal, whose scan for due jobs waits at a gate the test opens. */
function gated(journal: KvJournal): { journal: Journal; scanning: Promise<void>; open: () => void } {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => open = resolve);
  let started!: () => void;
  const scanning = new Promise<void>((resolve) => started = resolve);
  const wrapped = new Proxy(journal, {
    get(target, key) {
      if (key === "due") {
        return async function* (...args: Parameters<Journal["due"]>) {
          started();
          await gate;
          yield* (target as Journal).due(...args);
        };
      }
      const value = Reflect.get(target, key);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { journal: wrapped as unknown as Journal, scanning, open };
}

async function world(jobs: JobRecord[]) {
  const kv = await KvJournal.open(":memory:", 60_000);
  for (const job of jobs) await kv.put(job);
  const { journal, scanning, open } = gated(kv);
  const scheduler = new Scheduler(journal, testConfig(["--workers", "1", "--max-queue", "2"]));
  const ran: string[] = [];
  let finish!: () => void;
  const running = new Promise<void>((resolve) => finish = resolve);
  return {
    scheduler,
    scanning,
    open,
    ran,
    finish,
    start: () =>
      scheduler.start({
        run: (record) => (ran.push(record.id), running),
        notify: () => Promise.resolve(),
      }),
    async [Symbol.asyncDispose]() {
      finish();
      await scheduler.stop(0);
      await kv[Symbol.asyncDispose]();
    },
  };
}

Deno.test("a request is not turned away while the journal scan holds a slot but claims nothing", async () => {
  await using w = await world([]);
  using _first = await w.scheduler.reserve();
  w.start();
  await w.scanning; // the scan now holds the queue's second slot
  const second = w.scheduler.reserve();
  w.open();
  using _second = await second;
  assertEquals(w.ran, []);
});

Deno.test("a request is refused (505) when the claim the scan was making fills the queue", async () => {
  await using w = await world([jobRecord("j1")]);
  using _first = await w.scheduler.reserve();
  w.start();
  await w.scanning;
  const second = w.scheduler.reserve();
  w.open();
  const error = await assertRejects(() => second, ImgserveError);
  assertEquals([error.name, error.code], ["QUEUE_FULL", 505]);
  assertEquals(w.ran, ["j1"]);
});
