import { assertEquals, assertNotMatch } from "../../helpers/assert.ts";
import { parseFtpUrl } from "../../../src/transport/ftp/url.ts";
import { rejectsWith } from "../../fixtures/ftp/transfer.ts";

Deno.test("each scheme has its TLS mode and default port", () => {
  const of = (u: string) => parseFtpUrl(new URL(u)).endpoint;
  assertEquals([of("ftp://h/a").security, of("ftp://h/a").port], ["none", 21]);
  assertEquals([of("ftps://h/a").security, of("ftps://h/a").port], ["implicit", 990]);
  assertEquals([of("ftpes://h/a").security, of("ftpes://h/a").port], ["explicit", 21]);
  assertEquals(of("ftpes://h:2121/a").port, 2121);
});

Deno.test("no user means anonymous; user, password and path are %-decoded", () => {
  assertEquals(parseFtpUrl(new URL("ftp://example.com/a.png")).endpoint, {
    hostname: "example.com",
    port: 21,
    security: "none",
    user: "anonymous",
    password: "anonymous@",
  });
  const { endpoint, path } = parseFtpUrl(new URL("ftps://b%40x:p%3Aw%2F@h/dir%20one/%C3%A9.png"));
  assertEquals(endpoint.user, "b@x");
  assertEquals(endpoint.password, "p:w/");
  assertEquals(path, "dir one/é.png");
});

Deno.test("paths are relative to the login folder unless the first slash is encoded", () => {
  assertEquals(parseFtpUrl(new URL("ftp://h/a/b.png")).path, "a/b.png");
  assertEquals(parseFtpUrl(new URL("ftp://h/%2Fsrv/b.png")).path, "/srv/b.png");
});

Deno.test("a path is collapsed as a file system reads it: //, /./, x/.. (written or %-encoded)", () => {
  const path = (u: string) => parseFtpUrl(new URL(u)).path;
  for (const u of ["ftp://h/x//a.png", "ftp://h/x/./a.png", "ftp://h/x/y/../a.png", "ftp://h/x/y%2F..%2Fa.png"]) {
    assertEquals(path(u), "x/a.png", u);
  }
  assertEquals(path("ftp://h/%2F/srv//a.png"), "/srv/a.png");
  assertEquals(path("ftp://h/%2F..%2Fa.png"), "/a.png");
  assertEquals(path("ftp://h/..%2Fa.png"), "../a.png", "above the login folder stays");
  assertEquals(path("ftp://h/x/a..png"), "x/a..png");
});

Deno.test("encoded line breaks, bad escapes and folder URLs are BAD_URL", async () => {
  for (
    const url of [
      "ftp://h/a%0D%0ADELE%20x",
      "ftp://u%0A:p@h/a",
      "ftp://h/%E0%A4%A",
      "ftp://h/dir/",
      "ftp://h/dir/a.png%2F..",
      "ftp://h/dir%2F.",
    ]
  ) {
    await rejectsWith(Promise.resolve().then(() => parseFtpUrl(new URL(url))), "BAD_URL");
  }
});

Deno.test("a password never appears in a BAD_URL message", async () => {
  const err = await rejectsWith(Promise.resolve().then(() => parseFtpUrl(new URL("ftp://u:hunter2@h/"))), "BAD_URL");
  assertNotMatch(err.message, /hunter2/);
});
