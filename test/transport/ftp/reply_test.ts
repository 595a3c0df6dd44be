import assert from "node:assert/strict";
import {
  LineSplitter,
  MAX_REPLY_CHARS,
  replyClass,
  ReplyParser,
  ReplyTooLong,
} from "../../../src/transport/ftp/reply.ts";

Deno.test("a one-line reply is complete at once", () => {
  const reply = new ReplyParser().push("220 Service ready");
  assert.deepEqual(reply, { code: 220, lines: ["220 Service ready"], text: "Service ready" });
});

Deno.test("a multi-line reply ends only at its code followed by a space", () => {
  const parser = new ReplyParser();
  assert.equal(parser.push("211-Features:"), undefined);
  assert.equal(parser.push(" EPSV"), undefined);
  assert.equal(parser.push("123 not the end: another code"), undefined);
  assert.equal(parser.push("211-still inside"), undefined);
  assert.ok(parser.pending);
  const reply = parser.push("211 End");
  assert.equal(reply?.code, 211);
  assert.equal(reply?.lines.length, 5);
  assert.equal(reply?.text, "Features: EPSV 123 not the end: another code still inside End");
  assert.ok(!parser.pending);
});

Deno.test("the parser starts afresh after a multi-line reply", () => {
  const parser = new ReplyParser();
  parser.push("230-Welcome");
  parser.push("230 Logged in");
  assert.equal(parser.push("200 OK")?.code, 200);
});

Deno.test("a line that cannot start a reply is a SyntaxError", () => {
  assert.throws(() => new ReplyParser().push("hello"), SyntaxError);
  assert.throws(() => new ReplyParser().push("999 nine"), RangeError);
});

Deno.test("a multi-line reply is refused once its lines outgrow the cap, and a long FEAT still fits", () => {
  const feat = new ReplyParser();
  feat.push("211-Features:");
  for (let i = 0; i < 500; i++) feat.push(` FEATURE${i} ${"x".repeat(100)}`);
  assert.equal(feat.push("211 End")?.lines.length, 502);

  const parser = new ReplyParser();
  parser.push("220-Welcome");
  const line = `220-${"x".repeat(996)}`;
  let lines = 0;
  assert.throws(() => {
    for (; lines < 1000; lines++) parser.push(line);
  }, (err) => err instanceof ReplyTooLong && err.code === 220);
  assert.equal(lines, Math.floor((MAX_REPLY_CHARS - "220-Welcome\r\n".length) / 1002));
  assert.ok(!parser.pending);
});

Deno.test("reply classes follow the first digit", () => {
  assert.equal(replyClass(150), "preliminary");
  assert.equal(replyClass(226), "completion");
  assert.equal(replyClass(331), "intermediate");
  assert.equal(replyClass(421), "transient");
  assert.equal(replyClass(550), "permanent");
});

Deno.test("lines split on CRLF across chunk boundaries and UTF-8 sequences", () => {
  const splitter = new LineSplitter();
  const bytes = new TextEncoder().encode('257 "/café" created\r\n220 ok\r\n');
  const cut = 7; // inside the two bytes of "é"
  assert.deepEqual(splitter.push(bytes.subarray(0, cut)), []);
  assert.deepEqual(splitter.push(bytes.subarray(cut)), ['257 "/café" created', "220 ok"]);
  assert.equal(splitter.buffered, 0);
});
