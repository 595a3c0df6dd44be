import { assert, assertEquals, assertRejects } from "../helpers/assert.ts";
import { assertImage, GREEN, painted, png } from "../helpers/images.ts";
import { httpServer, tempDir } from "../helpers/server.ts";
import { makeTestCerts } from "../fixtures/certs.ts";
import { multipartFields, type ReceivedFile, uploadSite } from "../fixtures/http/upload_site.ts";
import { ImgserveError } from "../../protocol/error_codes.ts";
import { closeHttpClients } from "../../src/transport/http_client.ts";
import {
  formFieldOf,
  type HttpWriteOptions,
  splitFormDestination,
  uploadHttp,
} from "../../src/transport/http_upload.ts";
import { httpTransport } from "../../src/transport/http.ts";
import { type AddressGuard, openGuard } from "../../src/transport/mod.ts";

const image = await png(painted(30, 20, () => GREEN));

function writeOptions(extra: Partial<HttpWriteOptions> = {}): HttpWriteOptions {
  return { timeoutMs: 5_000, caCerts: [], guard: openGuard, contentType: "image/png", ...extra };
}

async function assertIsTheImage(file: ReceivedFile | undefined): Promise<void> {
  assert(file, "no file arrived");
  assertEquals(file.bytes, image);
  await assertImage(file.bytes, { width: 30, height: 20, centre: GREEN, tolerance: 0 });
}

/** A guard that records every host it is asked about. */
function recordingGuard(): AddressGuard & { hosts: string[] } {
  const hosts: string[] = [];
  return { hosts, resolve: (h) => (hosts.push(h), Promise.resolve(h)), checkAddress: () => {} };
}

Deno.test("the form's file input gets the image, and the other fields go as a browser sends them", async () => {
  await using site = uploadSite();
  const guard = recordingGuard();
  await uploadHttp(
    new URL(`${site.base}/app/upload.html:200-Ex.png`),
    image,
    writeOptions({ fieldName: "image", guard }),
  );
  assertEquals(site.requests, ["GET /app/upload.html", "POST /app/receive/upload.php?from=page"]);
  assertEquals(guard.hosts, ["127.0.0.1", "127.0.0.1"]);
  const upload = site.uploads[0];
  assert(upload.contentType?.startsWith("multipart/form-data; boundary="), upload.contentType ?? "");
  assertEquals(upload.contentLength !== null, true);
  await assertIsTheImage(upload.file);
  assertEquals(upload.file?.fileName, "200-Ex.png");
  assertEquals(upload.file?.type, "image/png");
  const summary = upload.fields.map(([name, value]) =>
    typeof value === "string" ? [name, value] : [name, `file "${value.fileName}" ${value.type} ${value.bytes.length}`]
  );
  assertEquals(summary, [
    ["csrf", site.csrf],
    ["title", "default title"],
    ["untitled", ""],
    ["public", "yes"],
    ["size", "m"],
    ["album", "Holiday 2024"],
    ["license", "cc-by"],
    ["notes", "line one\r\nline two"],
    ["thumbnail", 'file "" application/octet-stream 0'],
    ["image", `file "200-Ex.png" image/png ${image.length}`],
    ["go", "Upload"],
  ]);
});

Deno.test("the multipart body escapes quotes and line breaks in names and file names as browsers do", async () => {
  const page = `<form method="post" enctype="multipart/form-data" action="/post">
    <input type="hidden" name='say "hi"&#10;now' value="a&#10;b"><input type="file" name="file"></form>`;
  let body = "";
  await using site = httpServer(async (req) => {
    if (req.method === "GET") return new Response(page, { headers: { "content-type": "text/html" } });
    body = await req.text();
    return new Response("ok");
  });
  await uploadHttp(new URL(`${site.base}/page.html:a%22b%0D%0A.png`), image, writeOptions({ fieldName: "file" }));
  assert(body.includes(`name="say %22hi%22%0D%0Anow"\r\n\r\na\r\nb\r\n`), JSON.stringify(body.slice(0, 300)));
  assert(body.includes(`name="file"; filename="a%22b%0D%0A.png"\r\n`), JSON.stringify(body.slice(0, 400)));
});

Deno.test("the file name after the last colon is percent-decoded", async () => {
  await using site = uploadSite();
  await uploadHttp(
    new URL(`${site.base}/app/upload.html:my%20pic%C3%A9.png`),
    image,
    writeOptions({ fieldName: "image" }),
  );
  assertEquals(site.uploads[0].file?.fileName, "my picé.png");
});

Deno.test("a page with no HTML form gets the multipart POST itself", async () => {
  await using site = uploadSite();
  await uploadHttp(new URL(`${site.base}/bare:shot.png`), image, writeOptions({ fieldName: "file" }));
  assertEquals(site.requests, ["GET /bare", "POST /bare"]);
  assertEquals(site.uploads[0].fields.map(([name]) => name), ["file"]);
  assertEquals(site.uploads[0].file?.fileName, "shot.png");
  await assertIsTheImage(site.uploads[0].file);
});

Deno.test("a field name no form on the page has means posting to the page URL", async () => {
  await using site = uploadSite();
  // The page's forms have no file input named "file", so the POST goes to the page, which refuses it.
  const err = await assertRejects(
    () => uploadHttp(new URL(`${site.base}/app/upload.html:a.png`), image, writeOptions({ fieldName: "file" })),
    ImgserveError,
  );
  assertEquals(err.name, "DESTINATION_REFUSED");
  assertEquals(site.requests, ["GET /app/upload.html", "POST /app/upload.html"]);
});

Deno.test("controls tied to the form by a table or by a form attribute are submitted with it", async () => {
  const received = Promise.withResolvers<string[]>();
  await using server = httpServer(async (request) => {
    if (request.method === "GET") {
      return new Response(
        `<base href="/base/"><table><form action="take"><tr><td><input type=hidden name=t value=1>` +
          `<input type=file name=pic><button name=b value=clicked>Send</button></td></tr></form></table>` +
          `<input form=other name=outside value=no><input name=stray value=no>`,
        { headers: { "content-type": "text/html" } },
      );
    }
    const fields = await multipartFields(request);
    received.resolve([new URL(request.url).pathname, ...fields.map(([n, v]) => `${n}: ${typeof v}`)]);
    return new Response("ok");
  });
  await uploadHttp(new URL(`${server.base}/page:x.png`), image, writeOptions({ fieldName: "pic" }));
  assertEquals(await received.promise, ["/base/take", "t: string", "pic: object", "b: string"]);
});

Deno.test("with a field name, a dstURL without a colon in its path is a BAD_URL before any request", async () => {
  await using site = uploadSite();
  const err = await assertRejects(
    () => uploadHttp(new URL(`${site.base}/app/upload.html`), image, writeOptions({ fieldName: "image" })),
    ImgserveError,
  );
  assertEquals([err.name, err.code, err.status], ["BAD_URL", 106, 400]);
  assert(err.message.includes("<URL of the page with the upload form>:<file name>"), err.message);
  assertEquals(site.requests, []);
});

Deno.test("the split is at the last colon of the path, never the port's", () => {
  const { pageURL, fileName } = splitFormDestination(new URL("http://127.0.0.1:8080/a:b/upload.html:200-Ex.png?x"));
  assertEquals([pageURL.href, fileName], ["http://127.0.0.1:8080/a:b/upload.html?x", "200-Ex.png"]);
});

Deno.test("a 403 from the form action is DESTINATION_REFUSED with the status and the body's words", async () => {
  await using server = httpServer(async (request) => {
    await request.body?.cancel();
    return request.method === "GET"
      ? new Response("not html", { headers: { "content-type": "text/plain" } })
      : new Response("<html><body><p>Upload  quota\n exceeded</p></body></html>", { status: 403 });
  });
  const err = await assertRejects(
    () => uploadHttp(new URL(`${server.base}/up:a.png`), image, writeOptions({ fieldName: "f" })),
    ImgserveError,
  );
  assertEquals([err.name, err.transient], ["DESTINATION_REFUSED", false]);
  assert(err.message.includes("403") && err.message.includes("Upload quota exceeded"), err.message);
});

Deno.test("a 500 from the form action is DESTINATION_SERVER_ERROR, worth retrying", async () => {
  await using server = httpServer(async (request) => {
    await request.body?.cancel();
    return new Response("database is down", { status: request.method === "GET" ? 404 : 500 });
  });
  const err = await assertRejects(
    () => uploadHttp(new URL(`${server.base}/up:a.png`), image, writeOptions({ fieldName: "f" })),
    ImgserveError,
  );
  assertEquals([err.name, err.transient], ["DESTINATION_SERVER_ERROR", true]);
  assert(err.message.includes("500") && err.message.includes("database is down"), err.message);
});

Deno.test("a 303 after the form post is followed with a GET, a 307 repeats the post", async () => {
  const seen: string[] = [];
  const guard = recordingGuard();
  await using server = httpServer(async (request) => {
    const { pathname } = new URL(request.url);
    const files = request.method === "POST"
      ? (await multipartFields(request)).filter(([, v]) => typeof v !== "string")
      : [];
    seen.push(`${request.method} ${pathname}${files.length ? ` with ${(files[0][1] as ReceivedFile).fileName}` : ""}`);
    switch (pathname) {
      case "/form":
        return new Response(`<form action=/post-redirect-get method=post><input type=file name=f></form>`, {
          headers: { "content-type": "text/html" },
        });
      case "/form307":
        return new Response(`<form action=/moved method=post><input type=file name=f></form>`, {
          headers: { "content-type": "text/html" },
        });
      case "/post-redirect-get":
        return new Response(null, { status: 303, headers: { location: "/thanks" } });
      case "/moved":
        return new Response(null, { status: 307, headers: { location: "/new-home" } });
      default:
        return new Response("ok");
    }
  });
  await uploadHttp(new URL(`${server.base}/form:a.png`), image, writeOptions({ fieldName: "f", guard }));
  await uploadHttp(new URL(`${server.base}/form307:b.png`), image, writeOptions({ fieldName: "f", guard }));
  assertEquals(seen, [
    "GET /form",
    "POST /post-redirect-get with a.png",
    "GET /thanks",
    "GET /form307",
    "POST /moved with b.png",
    "POST /new-home with b.png",
  ]);
  assertEquals(guard.hosts.length, 6, "every hop goes through the guard");
});

Deno.test("endless redirects stop at the limit as DESTINATION_REFUSED", async () => {
  await using server = httpServer(async (request) => {
    await request.body?.cancel();
    return new Response(null, { status: 307, headers: { location: "/again" } });
  });
  const err = await assertRejects(
    () => uploadHttp(new URL(`${server.base}/up:a.png`), image, writeOptions({ fieldName: "f" })),
    ImgserveError,
  );
  assertEquals(err.name, "DESTINATION_REFUSED");
  assert(err.message.includes("redirected more than"), err.message);
});

Deno.test("a refusing network guard stops the upload before anything is sent", async () => {
  await using site = uploadSite();
  const guard: AddressGuard = {
    resolve: () => Promise.reject(new ImgserveError("NETWORK_FORBIDDEN", "not allowed")),
    checkAddress: () => {},
  };
  const err = await assertRejects(
    () => uploadHttp(new URL(`${site.base}/app/upload.html:a.png`), image, writeOptions({ fieldName: "image", guard })),
    ImgserveError,
  );
  assertEquals(err.name, "NETWORK_FORBIDDEN");
  assertEquals(site.requests, []);
});

Deno.test("PUT sends exactly the image with its Content-Type and Content-Length", async () => {
  await using site = uploadSite();
  await uploadHttp(new URL(`${site.base}/dav/200x100-Ex.png`), image, writeOptions());
  const upload = site.uploads[0];
  assertEquals([upload.method, upload.path], ["PUT", "/dav/200x100-Ex.png"]);
  assertEquals([upload.contentType, upload.contentLength], ["image/png", String(image.length)]);
  await assertIsTheImage(upload.file);
});

Deno.test("PUT answers outside 2xx are errors naming the status, redirects included", async () => {
  for (
    const [status, name] of [[403, "DESTINATION_REFUSED"], [507, "DESTINATION_SERVER_ERROR"], [
      301,
      "DESTINATION_REFUSED",
    ]] as const
  ) {
    await using server = httpServer(async (request) => {
      await request.body?.cancel();
      return new Response(status === 301 ? null : "no room", {
        status,
        headers: status === 301 ? { location: "/elsewhere" } : {},
      });
    });
    const err = await assertRejects(
      () => uploadHttp(new URL(`${server.base}/x.png`), image, writeOptions()),
      ImgserveError,
    );
    assertEquals(err.name, name);
    assert(err.message.includes(String(status)), err.message);
  }
});

Deno.test("a destination that does not answer in time is DESTINATION_TIMEOUT", async () => {
  const { promise: release, resolve } = Promise.withResolvers<void>();
  await using server = httpServer(async (request) => {
    await request.body?.cancel();
    await release;
    return new Response("late");
  });
  try {
    const err = await assertRejects(
      () => uploadHttp(new URL(`${server.base}/x.png`), image, writeOptions({ timeoutMs: 200 })),
      ImgserveError,
    );
    assertEquals([err.name, err.transient], ["DESTINATION_TIMEOUT", true]);
  } finally {
    resolve();
  }
});

Deno.test("a closed port is DESTINATION_UNREACHABLE", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  const err = await assertRejects(
    () => uploadHttp(new URL(`http://127.0.0.1:${port}/up:a.png`), image, writeOptions({ fieldName: "f" })),
    ImgserveError,
  );
  assertEquals(err.name, "DESTINATION_UNREACHABLE");
});

Deno.test("HTTPS uploads trust an extra CA given in caCerts, and only then", async () => {
  await using dir = await tempDir();
  const certs = await makeTestCerts(dir.path);
  await using site = uploadSite({ tls: certs });
  try {
    const url = new URL(`${site.base}/app/upload.html:tls.png`);
    const err = await assertRejects(() => uploadHttp(url, image, writeOptions({ fieldName: "image" })), ImgserveError);
    assertEquals(err.name, "DESTINATION_REFUSED");
    assert(/certificate|issuer/i.test(err.message), err.message);
    await uploadHttp(url, image, writeOptions({ fieldName: "image", caCerts: [certs.caPem] }));
    assertEquals(site.uploads[0].file?.fileName, "tls.png");
    await assertIsTheImage(site.uploads[0].file);
  } finally {
    await closeHttpClients();
  }
});

Deno.test("the HTTP transport takes the form's field from the job's args, and PUTs without one", async () => {
  assertEquals(formFieldOf({ width: 200, fieldName: "image" }), "image");
  assertEquals([formFieldOf({ width: 200 }), formFieldOf(undefined), formFieldOf({ fieldName: 7 })], [
    undefined,
    undefined,
    undefined,
  ]);
  await using site = uploadSite();
  const transport = httpTransport();
  await transport.write(new URL(`${site.base}/app/upload.html:a.png`), image, {
    ...writeOptions(),
    jobArgs: { width: 30, fieldName: "image" },
  });
  await transport.write(new URL(`${site.base}/dav/b.png`), image, { ...writeOptions(), jobArgs: { width: 30 } });
  assertEquals(site.requests, ["GET /app/upload.html", "POST /app/receive/upload.php?from=page", "PUT /dav/b.png"]);
  await assertIsTheImage(site.uploads[0].file);
  await assertIsTheImage(site.uploads[1].file);
});
