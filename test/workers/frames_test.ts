import { assert, assertEquals, assertRejects } from "../helpers/assert.ts";
import { FrameReader, writeFrame } from "../../workers/frames.ts";

/** Bytes written as frames, handed to the reader in pieces of `piece` bytes, as a pipe may. */
async function roundTrip(piece: number, frames: [unknown, Uint8Array][]) {
  const buffer = new TransformStream<Uint8Array, Uint8Array>();
  const writer = buffer.writable.getWriter();
  const written: Uint8Array<ArrayBuffer>[] = [];
  const collect = new WritableStream<Uint8Array>({ write: (chunk) => void written.push(chunk.slice()) }).getWriter();
  for (const [head, body] of frames) await writeFrame(collect, head, body);
  const all = new Uint8Array(await new Blob(written).arrayBuffer());
  for (let at = 0; at < all.length; at += piece) writer.write(all.subarray(at, at + piece));
  writer.close();
  return new FrameReader<unknown>(buffer.readable, 1 << 20);
}

Deno.test("frames come back whole and in order, however the stream splits them", async () => {
  const sent: [unknown, Uint8Array][] = [
    [{ type: "a" }, new Uint8Array([1, 2, 3])],
    [{ type: "b", n: 7 }, new Uint8Array(0)],
    [{ type: "c" }, new Uint8Array(5000).fill(9)],
  ];
  for (const piece of [1, 3, 4096]) {
    const reader = await roundTrip(piece, sent);
    for (const [head, body] of sent) {
      const frame = await reader.next();
      assertEquals([frame?.head, frame?.body], [head, body]);
    }
    assertEquals(await reader.next(), undefined);
  }
});

Deno.test("a frame over the limit, or cut short, is an error", async () => {
  const big = await roundTrip(100, [[{}, new Uint8Array(2 << 20)]]);
  const over = await assertRejects(() => big.next(), Error);
  assert(over.message.includes("over the limit"), over.message);
  const buffer = new TransformStream<Uint8Array, Uint8Array>();
  const writer = buffer.writable.getWriter();
  writer.write(new Uint8Array([0, 0, 0, 2, 0x7b]));
  writer.close();
  const cut = await assertRejects(() => new FrameReader(buffer.readable, 10).next(), Error);
  assert(cut.message.includes("ended inside a frame"), cut.message);
});
