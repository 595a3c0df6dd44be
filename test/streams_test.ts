import { assert, assertEquals } from "./helpers/assert.ts";
import { readAtMost } from "../src/streams.ts";

/** A stream of the given chunks that records whether it was cancelled. */
function chunked(
  ...chunks: number[][]
): { stream: ReadableStream<Uint8Array>; cancelled: () => boolean; pulled: () => number } {
  let cancelled = false;
  let pulled = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (pulled === chunks.length) return controller.close();
      controller.enqueue(new Uint8Array(chunks[pulled++]));
    },
    cancel() {
      cancelled = true;
    },
  }, { highWaterMark: 0 });
  return { stream, cancelled: () => cancelled, pulled: () => pulled };
}

Deno.test("readAtMost returns the whole stream when it fits, up to the limit exactly", async () => {
  const { stream, cancelled } = chunked([1, 2], [3], [4, 5]);
  assertEquals([...(await readAtMost(stream, 5))!], [1, 2, 3, 4, 5]);
  assert(!cancelled());
});

Deno.test("readAtMost gives undefined past the limit and cancels the rest unread", async () => {
  const { stream, cancelled, pulled } = chunked([1, 2], [3, 4], [5], [6]);
  assertEquals(await readAtMost(stream, 3), undefined);
  assert(cancelled());
  assertEquals(pulled(), 2);
});

Deno.test("readAtMost counts the prefix towards the limit and keeps it in front", async () => {
  assertEquals([...(await readAtMost(chunked([3]).stream, 3, { prefix: [new Uint8Array([1, 2])] }))!], [1, 2, 3]);
  const over = chunked([9]);
  assertEquals(await readAtMost(over.stream, 1, { prefix: [new Uint8Array([1, 2])] }), undefined);
  assertEquals(over.pulled(), 0);
});

Deno.test("readAtMost reports each chunk as it arrives", async () => {
  const sizes: number[] = [];
  await readAtMost(chunked([1], [2, 3]).stream, 10, { onChunk: (c) => sizes.push(c.byteLength) });
  assertEquals(sizes, [1, 2]);
});

Deno.test("readAtMost throws the error of a read that fails", async () => {
  let cancelled = false;
  const stream = new ReadableStream<Uint8Array>({
    pull() {
      throw new Error("connection reset");
    },
    cancel() {
      cancelled = true;
    },
  });
  let message = "";
  await readAtMost(stream, 10).catch((err) => message = err.message);
  assertEquals(message, "connection reset");
  assert(!cancelled, "an errored stream has nothing left to cancel");
});
