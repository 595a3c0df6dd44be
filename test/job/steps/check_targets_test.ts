import { assertEquals, assertRejects } from "../../helpers/assert.ts";
import { ImgserveError } from "../../../protocol/error_codes.ts";
import { checkTargets } from "../../../src/job/steps/check_targets.ts";
import { admission, request, stepWorld } from "./step_context.ts";

Deno.test("checkTargets refuses a source or destination no transport serves, naming the output", async () => {
  await using world = await stepWorld();
  const { ctx } = world;
  await checkTargets(ctx, admission(request("ftp://h/a.png", ["file:///out/{$width}.png", "https://h/b.png"])));
  const source = await assertRejects(
    () => checkTargets(ctx, admission(request("gopher://h/a.png", "file:///out/a.png"))),
    ImgserveError,
  );
  assertEquals(source.code, 107);
  const output = await assertRejects(
    () => checkTargets(ctx, admission(request("file:///a.png", ["file:///out/a.png", "s4://b/a.png"]))),
    ImgserveError,
  );
  assertEquals(output.code, 107);
  assertEquals(output.message.startsWith("outputs[1]: "), true, output.message);
});
