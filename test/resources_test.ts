import { assert, assertEquals } from "./helpers/assert.ts";
import { closeQuietly } from "../src/resources.ts";

Deno.test("closeQuietly closes a listener, and closing it again is no error", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  closeQuietly(listener);
  closeQuietly(listener);
  let refused = false;
  await listener.accept().catch(() => refused = true);
  assert(refused, "a closed listener accepts nothing");
});

Deno.test("closeQuietly passes over whatever a close throws", () => {
  let calls = 0;
  closeQuietly({
    close() {
      calls++;
      throw new Deno.errors.BadResource("already closed");
    },
  });
  assertEquals(calls, 1);
});
