import { assert, assertEquals, assertRejects } from "../../helpers/assert.ts";
import { concat } from "../../../shared/bytes.ts";
import { ImgserveError } from "../../../protocol/error_codes.ts";
import { readSourceHeader } from "../../../src/job/steps/read_source_header.ts";
import { png, thirds } from "../../helpers/images.ts";
import { readAll } from "../../../src/transport/mod.ts";
import { admission, chunked, request, stepWorld } from "./step_context.ts";

Deno.test("readSourceHeader reads only the header's chunks, and the download goes on from there", async () => {
  await using world = await stepWorld();
  const bytes = await png(thirds(600, 400));
  const job = admission(request("https://h/a.png", "file:///out/a.png"));
  job.download = { stream: chunked(bytes, 100), prefix: [] };
  await readSourceHeader(world.ctx, job);
  assertEquals([job.header?.format, job.header?.width, job.header?.height], ["png", 600, 400]);
  const read = job.download.prefix.reduce((n, chunk) => n + chunk.byteLength, 0);
  assert(read < bytes.byteLength, `read ${read} of ${bytes.byteLength} bytes for the header`);
  const rest = await readAll(job.download.stream, bytes.byteLength);
  assertEquals(concat([...job.download.prefix, rest], bytes.byteLength), bytes);
});

Deno.test("readSourceHeader refuses a source over --max-source-pixels with 502, and reads an SVG whole", async () => {
  await using world = await stepWorld({ flags: ["--max-source-pixels", "200000"] });
  const big = admission(request("https://h/a.png", "file:///out/a.png"));
  big.download = { stream: chunked(await png(thirds(600, 400))), prefix: [] };
  assertEquals((await assertRejects(() => readSourceHeader(world.ctx, big), ImgserveError)).code, 502);
  const svg = new TextEncoder().encode(
    `<svg xmlns="http://www.w3.org/2000/svg" width="120" height="80">${"<!-- padding -->".repeat(200)}</svg>`,
  );
  const drawing = admission(request("https://h/a.svg", "file:///out/a.png"));
  drawing.download = { stream: chunked(svg, 100), prefix: [] };
  await readSourceHeader(world.ctx, drawing);
  assertEquals([drawing.header?.format, drawing.header?.width], ["svg", 120]);
  assertEquals(drawing.download.prefix, [svg]);
});
