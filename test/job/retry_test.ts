import { assertEquals } from "../helpers/assert.ts";
import { ImgserveError } from "../../src/errors.ts";
import { backoffMs, CALLBACK_ATTEMPTS, retriesCallback, retriesJob } from "../../src/job/retry.ts";

Deno.test("the wait doubles from the base with each failed try", () => {
  assertEquals([1, 2, 3, 4, 5].map((n) => backoffMs(250, n)), [250, 500, 1000, 2000, 4000]);
});

Deno.test("a job is tried again only after a passing failure and while attempts are left", () => {
  const unreachable = new ImgserveError("SOURCE_UNREACHABLE", "no answer");
  const notFound = new ImgserveError("SOURCE_NOT_FOUND", "gone");
  assertEquals(unreachable.transient, true);
  assertEquals(notFound.transient, false);
  assertEquals(retriesJob(unreachable, 1, 3), true);
  assertEquals(retriesJob(unreachable, 2, 3), true);
  assertEquals(retriesJob(unreachable, 3, 3), false);
  assertEquals(retriesJob(notFound, 1, 3), false);
});

Deno.test("a callback is sent again after any failure, up to its attempt count", () => {
  assertEquals(retriesCallback(1), true);
  assertEquals(retriesCallback(CALLBACK_ATTEMPTS - 1), true);
  assertEquals(retriesCallback(CALLBACK_ATTEMPTS), false);
});
