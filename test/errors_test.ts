import { assert, assertEquals } from "./helpers/assert.ts";
import { asImgserveError, errorBody } from "../src/errors.ts";
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

Deno.test("every error reply has one body: the routes', the listener's and each connection's come from errorBody", () => {
  assertEquals(errorBody(new ImgserveError("SOURCE_NOT_FOUND", "no file at /a.png")), {
    msg: "request invalid",
    code: 202,
    error: "no file at /a.png",
  });
  assertEquals(errorBody(new ImgserveError("BAD_JSON", "the body is not valid JSON")).msg, "request parse error");
  assertEquals(errorBody(new ImgserveError("INTERNAL_ERROR", "see its log")).msg, "internal error");
  // A head that is not HTTP has no code of its own.
  assertEquals(errorBody({ unparsable: "a header line is malformed" }), {
    msg: "request parse error",
    error: "a header line is malformed",
  });
  const sources = ["../src/app.ts", "../src/http/listener.ts", "../src/http/connection.ts"].map((path) =>
    Deno.readTextFileSync(new URL(path, import.meta.url))
  );
  for (const source of sources) {
    assert(source.includes("errorBody("), "each builds its error bodies with errorBody");
    assert(!/msg: "request (invalid|parse error)"/.test(source), "and none writes a body of its own");
  }
});
