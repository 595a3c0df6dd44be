import { assert, assertEquals, assertRejects } from "../../helpers/assert.ts";
import { ImgserveError } from "../../../protocol/error_codes.ts";
import { deliver } from "../../../src/job/steps/deliver.ts";
import type { Made } from "../../../src/job/steps/job.ts";
import { sinkFor } from "../../../src/job/sink.ts";
import { httpServer } from "../../helpers/server.ts";
import { png, thirds } from "../../helpers/images.ts";
import { accepted, firstAttempt, request, stepWorld } from "./step_context.ts";

Deno.test("deliver stores what the run made before its failure, then fails the attempt with it", async () => {
  const arrived: Uint8Array[] = [];
  await using server = httpServer(async (req) => {
    if (req.method === "PUT") arrived.push(new Uint8Array(await req.arrayBuffer()));
    return new Response(null, { status: 201 });
  });
  await using world = await stepWorld();
  const { ctx, dir } = world;
  await Deno.writeFile(`${dir}/a.png`, await png(thirds(60, 40)));
  const job = await accepted(ctx, request(`file://${dir}/a.png`, [`${server.base}/b.png`, `${server.base}/c.png`]));
  const attempt = firstAttempt(job);
  const [first] = attempt.outputs;
  const bytes = new Uint8Array([1, 2, 3]);
  const made: Made = {
    output: first,
    sink: sinkFor(ctx, job.id, first),
    result: { ok: true, bytes, size: 3, times: { encode: 1 } },
  };
  const lost = new ImgserveError("WORKER_CRASHED", "the worker stopped");
  attempt.made = {
    results: new ReadableStream({ start: (controller) => (controller.enqueue(made), controller.close()) }),
    ended: Promise.resolve({ failed: true, error: lost }),
  };
  assertEquals(await assertRejects(() => deliver(ctx, attempt), ImgserveError), lost);
  assertEquals(arrived.at(-1), bytes);
  assertEquals(attempt.outputs.map((output) => output.state), ["done", "pending"]);
  const journaled = await ctx.journal.get(job.id);
  assertEquals(journaled?.outputs.map((output) => output.state), ["done", "pending"]);
  assert(attempt.failures.size === 0);
});

Deno.test("deliver notes an output whose upload is refused as failed, and delivers the others", async () => {
  const puts = new Map<string, number>();
  // Each placeholder is taken; the second upload to b.png, its result, is refused.
  await using server = httpServer((req) => {
    const path = new URL(req.url).pathname;
    puts.set(path, (puts.get(path) ?? 0) + 1);
    return new Response(null, { status: path === "/b.png" && puts.get(path)! > 1 ? 403 : 201 });
  });
  await using world = await stepWorld();
  const { ctx, dir } = world;
  await Deno.writeFile(`${dir}/a.png`, await png(thirds(60, 40)));
  const job = await accepted(ctx, request(`file://${dir}/a.png`, [`${server.base}/b.png`, `${server.base}/c.png`]));
  const attempt = firstAttempt(job);
  const made = attempt.outputs.map((output): Made => ({
    output,
    sink: sinkFor(ctx, job.id, output),
    result: { ok: true, bytes: new Uint8Array([1]), size: 1, times: {} },
  }));
  attempt.made = {
    results: new ReadableStream({
      start: (controller) => (made.forEach((m) => controller.enqueue(m)), controller.close()),
    }),
    ended: Promise.resolve({ failed: false }),
  };
  await deliver(ctx, attempt);
  assertEquals(attempt.outputs.map((output) => output.state), ["pending", "done"]);
  assertEquals([...attempt.failures.values()].map((error) => error.code), [303]);
});
