import { assertEquals } from "../helpers/assert.ts";
import { findUploadForm } from "../../src/transport/http_form.ts";

const page = new URL("http://127.0.0.1:8080/site/upload.html");

Deno.test("a form's entries follow the browser's rules: hidden, defaults, checked, selected, textarea, first submit", () => {
  const html = `<form method="post" enctype="multipart/form-data" action="../post?x=1">
    <input type="hidden" name="csrf" value="t0k">
    <input name="title" value="a&#10;b">
    <input type="checkbox" name="keep" value="yes" checked>
    <input type="checkbox" name="drop" value="no">
    <input type="radio" name="size" value="s"><input type="radio" name="size" value="l" checked>
    <select name="fmt"><option>png</option><option selected value="jpg">JPEG</option></select>
    <textarea name="note">hello</textarea>
    <input name="off" value="x" disabled>
    <input type="file" name="other">
    <input type="file" name="file">
    <button type="submit" name="go" value="1">Send</button>
    <button type="submit" name="second" value="2">Other</button>
  </form>`;
  const form = findUploadForm(html, page, "file");
  assertEquals(form?.action.href, "http://127.0.0.1:8080/post?x=1");
  assertEquals(form?.entries, [
    { kind: "text", name: "csrf", value: "t0k" },
    { kind: "text", name: "title", value: "ab" },
    { kind: "text", name: "keep", value: "yes" },
    { kind: "text", name: "size", value: "l" },
    { kind: "text", name: "fmt", value: "jpg" },
    { kind: "text", name: "note", value: "hello" },
    { kind: "empty-file", name: "other" },
    { kind: "upload", name: "file" },
    { kind: "text", name: "go", value: "1" },
  ]);
});

Deno.test("a form without an action posts back to the page", () => {
  const form = findUploadForm(`<form><input type="file" name="file"></form>`, page, "file");
  assertEquals(form?.action.href, page.href);
});

Deno.test("no form is found when the file input is missing or disabled", () => {
  assertEquals(findUploadForm(`<form><input type="file" name="other"></form>`, page, "file"), undefined);
  assertEquals(findUploadForm(`<form><input type="file" name="file" disabled></form>`, page, "file"), undefined);
  assertEquals(findUploadForm(`<p>no form</p>`, page, "file"), undefined);
});
