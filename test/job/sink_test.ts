import { assertEquals } from "../helpers/assert.ts";
import { httpServer, tempDir } from "../helpers/server.ts";
import { resizeOutput, transferContext } from "../helpers/transfer.ts";
import type { Output } from "../../src/job/output.ts";
import { sinkFor } from "../../src/job/sink.ts";

function output(dst: string): Output {
  return { ...resizeOutput(dst), dst, dstURL: new URL(dst) };
}

const RESULT = { bytes: new Uint8Array([1, 2, 3]), times: {} };

Deno.test("a file:// result is written by the worker: its checked path and the job's temporary name, nothing uploaded", async () => {
  await using dir = await tempDir();
  const ctx = await transferContext(dir.path);
  const sink = sinkFor(ctx, "job-1", output(`file://${dir.path}/out.png`));
  const path = `${await Deno.realPath(dir.path)}/out.png`;
  assertEquals(sink.local, { writeTo: path, writeTemp: `${await Deno.realPath(dir.path)}/.imgserve-job-1.result.tmp` });
  await sink.store(RESULT);
  assertEquals([...Deno.readDirSync(dir.path)], []);
});

Deno.test("a remote result is uploaded through the destination's transport, with its content type", async () => {
  const arrived: { type: string | null; bytes: Uint8Array }[] = [];
  await using server = httpServer(async (req) => {
    arrived.push({ type: req.headers.get("content-type"), bytes: new Uint8Array(await req.arrayBuffer()) });
    return new Response(null, { status: 201 });
  });
  await using dir = await tempDir();
  const sink = sinkFor(await transferContext(dir.path), "job-1", output(`${server.base}/out.png`));
  assertEquals(sink.local, {});
  await sink.store(RESULT);
  assertEquals(arrived, [{ type: "image/png", bytes: RESULT.bytes }]);
});
