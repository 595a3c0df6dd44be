import { assert, assertEquals } from "./helpers/assert.ts";
import { asImgserveError } from "../src/errors.ts";
import { type ErrorName, Errors, ImgserveError, isErrorName } from "../protocol/error_codes.ts";

Deno.test("isErrorName accepts every name in the code table and nothing else", () => {
  for (const name of Object.keys(Errors)) assert(isErrorName(name), name);
  for (const name of ["", "queue_full", "NOT_A_CODE", "toString", "constructor", "__proto__"]) {
    assert(!isErrorName(name), name);
  }
});

Deno.test("an error's name is its table entry, so comparing it is checked by the compiler", () => {
  const err = new ImgserveError("QUEUE_FULL", "the queue is full");
  const name: ErrorName = err.name;
  assertEquals(name, "QUEUE_FULL");
  assertEquals([err.code, err.status, err.transient], [505, 503, true]);
});

Deno.test("anything thrown that is not an ImgserveError becomes PROCESSING_FAILED with its message", () => {
  const err = asImgserveError(new TypeError("boom"));
  assertEquals([err.name, err.code, err.message], ["PROCESSING_FAILED", 604, "boom"]);
});
