import { assertEquals, assertRejects } from "../helpers/assert.ts";
import { placeholderFor } from "../../src/image/placeholder.ts";
import { type MakePlaceholder, PlaceholderCache, placeholders } from "../../src/image/placeholder_cache.ts";
import type { OutputFormat } from "../../protocol/plan.ts";

/** A maker that counts its calls; its placeholders are `width` bytes long. */
function counting(): { make: MakePlaceholder; made: string[] } {
  const made: string[] = [];
  const make: MakePlaceholder = (format: OutputFormat, width: number, height: number) => {
    made.push(`${format} ${width}x${height}`);
    return Promise.resolve(new Uint8Array(width));
  };
  return { make, made };
}

Deno.test("a placeholder of a format and size is made once, and the same bytes are handed out again", async () => {
  const { make, made } = counting();
  const cache = new PlaceholderCache({ entries: 8, bytes: 10_000 }, make);
  const first = await cache.get("jpeg", 200, 120);
  const second = await cache.get("jpeg", 200, 120);
  assertEquals(first === second, true);
  assertEquals(made, ["jpeg 200x120"]);
  await cache.get("jpeg", 200, 121);
  await cache.get("png", 200, 120);
  assertEquals(made, ["jpeg 200x120", "jpeg 200x121", "png 200x120"]);
});

Deno.test("jobs of a new size arriving together share one making", async () => {
  const { make, made } = counting();
  const cache = new PlaceholderCache({ entries: 8, bytes: 10_000 }, make);
  const all = await Promise.all([1, 2, 3].map(() => cache.get("png", 40, 30)));
  assertEquals(made.length, 1);
  assertEquals(all.every((bytes) => bytes === all[0]), true);
});

Deno.test("the placeholder cache stays within its entries and bytes, the least recently used going first", async () => {
  const { make, made } = counting();
  const cache = new PlaceholderCache({ entries: 3, bytes: 1000 }, make);
  for (const width of [100, 101, 102]) await cache.get("jpeg", width, 10);
  await cache.get("jpeg", 100, 10); // used again: now the newest
  await cache.get("jpeg", 103, 10); // one too many: 101, the least recently used, goes
  assertEquals([cache.entries, cache.bytes], [3, 100 + 102 + 103]);
  await cache.get("jpeg", 100, 10);
  await cache.get("jpeg", 101, 10);
  assertEquals(made.filter((key) => key === "jpeg 100x10").length, 1);
  assertEquals(made.filter((key) => key === "jpeg 101x10").length, 2);
  // By bytes: four of about 240 fit in 1000, and each one more pushes the oldest out.
  const small = new PlaceholderCache({ entries: 100, bytes: 1000 }, make);
  for (const width of [240, 241, 242, 243, 244, 245]) {
    await small.get("png", width, 1);
    assertEquals(small.bytes <= 1000, true);
  }
  assertEquals([small.entries, small.bytes], [4, 242 + 243 + 244 + 245]);
});

Deno.test("a placeholder over a quarter of the cache's bytes is made for each job, not kept", async () => {
  const { make, made } = counting();
  const cache = new PlaceholderCache({ entries: 8, bytes: 1000 }, make);
  await cache.get("png", 251, 1);
  await cache.get("png", 251, 1);
  assertEquals([made.length, cache.entries, cache.bytes], [2, 0, 0]);
});

Deno.test("a placeholder that could not be made is tried again next time", async () => {
  let calls = 0;
  const cache = new PlaceholderCache({ entries: 8, bytes: 1000 }, () => {
    calls++;
    return calls === 1 ? Promise.reject(new Error("out of memory")) : Promise.resolve(new Uint8Array(10));
  });
  assertEquals((await assertRejects(() => cache.get("avif", 10, 10), Error)).message, "out of memory");
  assertEquals((await cache.get("avif", 10, 10)).byteLength, 10);
  assertEquals([calls, cache.entries, cache.bytes], [2, 1, 10]);
});

Deno.test("the server's cache hands out the placeholder itself, the same object for every job of that size", async () => {
  for (const format of ["png", "jpeg", "webp", "avif", "gif"] as const) {
    const first = await placeholders.get(format, 203, 121);
    assertEquals(first, await placeholderFor(format, 203, 121));
    assertEquals(first === await placeholders.get(format, 203, 121), true, format);
  }
});
