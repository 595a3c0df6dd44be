import { assert, assertEquals, assertThrows } from "../../helpers/assert.ts";
import {
  LineSplitter,
  MAX_REPLY_CHARS,
  replyClass,
  ReplyParser,
  ReplyTooLong,
} from "../../../src/transport/ftp/reply.ts";

Deno.test("a one-line reply is complete at once", () => {
  const reply = new ReplyParser().push("220 Service ready");
  assertEquals(reply, { code: 220, lines: ["220 Service ready"], text: "Service ready" });
});

Deno.test("a multi-line reply ends only at its code followed by a space", () => {
  const parser = new ReplyParser();
  assertEquals(parser.push("211-Features:"), undefined);
  assertEquals(parser.push(" EPSV"), undefined);
  assertEquals(parser.push("123 not the end: another code"), undefined);
  assertEquals(parser.push("211-still inside"), undefined);
  assert(parser.pending);
  const reply = parser.push("211 End");
  assertEquals(reply?.code, 211);
  assertEquals(reply?.lines.length, 5);
  assertEquals(reply?.text, "Features: EPSV 123 not the end: another code still inside End");
  assert(!parser.pending);
});

Deno.test("the parser starts afresh after a multi-line reply", () => {
  const parser = new ReplyParser();
  parser.push("230-Welcome");
  parser.push("230 Logged in");
  assertEquals(parser.push("200 OK")?.code, 200);
});

Deno.test("a line that cannot start a reply is a SyntaxError", () => {
  assertThrows(() => new ReplyParser().push("hello"), SyntaxError);
  assertThrows(() => new ReplyParser().push("999 nine"), RangeError);
});

Deno.test("a multi-line reply is refused once its lines outgrow the cap, and a long FEAT still fits", () => {
  const feat = new ReplyParser();
  feat.push("211-Features:");
  for (let i = 0; i < 500; i++) feat.push(` FEATURE${i} ${"x".repeat(100)}`);
  assertEquals(feat.push("211 End")?.lines.length, 502);

  const parser = new ReplyParser();
  parser.push("220-Welcome");
  const line = `220-${"x".repeat(996)}`;
  let lines = 0;
  const tooLong = assertThrows(() => {
    for (; lines < 1000; lines++) parser.push(line);
  }, ReplyTooLong);
  assertEquals(tooLong.code, 220);
  assertEquals(lines, Math.floor((MAX_REPLY_CHARS - "220-Welcome\r\n".length) / 1002));
  assert(!parser.pending);
});

Deno.test("reply classes follow the first digit", () => {
  assertEquals(replyClass(150), "preliminary");
  assertEquals(replyClass(226), "completion");
  assertEquals(replyClass(331), "intermediate");
  assertEquals(replyClass(421), "transient");
  assertEquals(replyClass(550), "permanent");
});

Deno.test("lines split on CRLF across chunk boundaries and UTF-8 sequences", () => {
  const splitter = new LineSplitter();
  const bytes = new TextEncoder().encode('257 "/café" created\r\n220 ok\r\n');
  const cut = 7; // inside the two bytes of "é"
  assertEquals(splitter.push(bytes.subarray(0, cut)), []);
  assertEquals(splitter.push(bytes.subarray(cut)), ['257 "/café" created', "220 ok"]);
  assertEquals(splitter.buffered, 0);
});
