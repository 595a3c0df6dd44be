/**
 * A job's large buffers are freed as soon as the job is done with them,
 * not at the worker's next garbage collection.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { release } from "../../workers/ops/release.ts";

const MiB = 1024 * 1024;

Deno.test("release frees a large buffer at once: every view of it reads empty", () => {
  const pixels = new Uint8ClampedArray(8 * MiB).fill(7);
  const other = new Uint8Array(pixels.buffer, 1024, 16);
  release(pixels);
  assert(pixels.buffer.detached);
  assertEquals(pixels.byteLength, 0);
  assertEquals(other.byteLength, 0);
});

Deno.test("release takes buffers and views alike, and skips what is missing or already freed", () => {
  const encoded = new ArrayBuffer(2 * MiB);
  const view = new Uint8Array(4 * MiB);
  release(encoded, undefined, view);
  assert(encoded.detached && view.buffer.detached);
  release(encoded, view); // no error the second time
});

Deno.test("release leaves small buffers to the garbage collector", () => {
  const header = new Uint8Array(64 * 1024).fill(1);
  release(header);
  assertEquals(header.byteLength, 64 * 1024);
  assertEquals(header[100], 1);
});

Deno.test("release never touches a WebAssembly memory: the codec that owns it keeps working", () => {
  const memory = new WebAssembly.Memory({ initial: 32 }); // 2 MiB
  const view = new Uint8Array(memory.buffer, 0, MiB).fill(3);
  release(view);
  assertEquals(memory.buffer.byteLength, 2 * MiB);
  assertEquals(new Uint8Array(memory.buffer)[10], 3);
});

Deno.test("the freed memory leaves the process: RSS falls back after releasing 256 MiB of pixels", async () => {
  // In a process of its own: the test runner's other files allocate and free alongside.
  const script = `
    import { release } from ${JSON.stringify(new URL("../../workers/ops/release.ts", import.meta.url).href)};
    const rss = () => Deno.memoryUsage().rss;
    const before = rss();
    const buffers = Array.from({ length: 4 }, () => new Uint8Array(${64 * MiB}).fill(1));
    const loaded = rss();
    release(...buffers);
    console.log(JSON.stringify({ grew: loaded - before, fell: loaded - rss() }));
  `;
  const output = await new Deno.Command(Deno.execPath(), { args: ["eval", script], stderr: "inherit" }).output();
  const { grew, fell } = JSON.parse(new TextDecoder().decode(output.stdout));
  assert(grew > 200 * MiB, `the buffers were not resident: ${grew / MiB} MiB`);
  assert(fell > 200 * MiB, `only ${fell / MiB} MiB came back`);
});
