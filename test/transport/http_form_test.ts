import { assert, assertEquals, assertThrows } from "../helpers/assert.ts";
import { findUploadForm, type FormEntry } from "../../src/transport/http_form.ts";
import { ImgserveError } from "../../protocol/error_codes.ts";

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

/** The entries of the upload form (file input "file") on `html`, which must have one. */
function entriesOf(html: string): FormEntry[] {
  const form = findUploadForm(`<form>${html}<input type="file" name="file"></form>`, page, "file");
  assert(form, "no upload form found");
  return form.entries.filter((e) => e.kind !== "upload");
}

Deno.test("field names and values are kept as written: quotes and line breaks are the multipart encoder's to escape", () => {
  assertEquals(entriesOf(`<input type="hidden" name='say "hi"&#13;&#10;now' value='a "b"&#10;c'>`), [
    { kind: "text", name: 'say "hi"\r\nnow', value: 'a "b"\nc' },
  ]);
  // Line breaks go only from single-line text inputs' values; a textarea keeps them.
  assertEquals(entriesOf(`<input name="t" value="a&#13;&#10;b"><textarea name="n">x&#10;y</textarea>`), [
    { kind: "text", name: "t", value: "ab" },
    { kind: "text", name: "n", value: "x\ny" },
  ]);
  assertEquals(
    entriesOf(`<input type="url" name="u" value=" http://h/ "><input type="email" name="e" value=" a@h ">`),
    [
      { kind: "text", name: "u", value: "http://h/" },
      { kind: "text", name: "e", value: "a@h" },
    ],
  );
});

Deno.test("controls without a name, in a datalist, in a template, or in a disabled fieldset send nothing", () => {
  assertEquals(
    entriesOf(`<input value="no name"><datalist><input name="listed" value="x"></datalist>
      <template><input name="templated" value="x"></template>
      <fieldset disabled><legend><input name="in-legend" value="kept"></legend><input name="inside" value="x"></fieldset>`),
    [{ kind: "text", name: "in-legend", value: "kept" }],
  );
});

Deno.test("_charset_, dirname and an image button's click point are filled in as a browser does", () => {
  assertEquals(
    entriesOf(`<input type="hidden" name="_charset_"><input name="q" value="v" dirname="q.dir">
      <input type="image" name="pt" src="b.png"><input type="submit" name="later" value="x">`),
    [
      { kind: "text", name: "_charset_", value: "UTF-8" },
      { kind: "text", name: "q", value: "v" },
      { kind: "text", name: "q.dir", value: "ltr" },
      { kind: "text", name: "pt.x", value: "0" },
      { kind: "text", name: "pt.y", value: "0" },
    ],
  );
});

Deno.test("selects send their selected, enabled options: the first enabled one for a drop-down without a choice", () => {
  assertEquals(
    entriesOf(`<select name="a"><option disabled>x</option><option> two  words </option></select>
      <select name="b" multiple><option selected>1</option><option>2</option><option selected>3</option></select>
      <select name="c" size="3"><option>none chosen</option></select>
      <select name="d"><optgroup disabled><option selected>off</option></optgroup><option>on</option></select>`),
    [
      { kind: "text", name: "a", value: "two words" },
      { kind: "text", name: "b", value: "1" },
      { kind: "text", name: "b", value: "3" },
    ],
  );
});

Deno.test("the action comes from the default button's formaction, resolved against <base href>", () => {
  const html = `<base href="http://127.0.0.1:8080/other/"><form action="post">
    <input type="file" name="file"><button name="go" formaction="send">Go</button></form>`;
  assertEquals(findUploadForm(html, page, "file")?.action.href, "http://127.0.0.1:8080/other/send");
  const invalid = `<form action="http://[bad"><input type="file" name="file"></form>`;
  assertEquals(assertThrows(() => findUploadForm(invalid, page, "file"), ImgserveError).name, "DESTINATION_REFUSED");
});

Deno.test("a control outside the form joins it through its form attribute", () => {
  const html = `<form id="up"><input type="file" name="file"></form><input form="up" name="tag" value="t">
    <input form="nowhere" name="lost" value="x">`;
  assertEquals(findUploadForm(html, page, "file")?.entries, [
    { kind: "upload", name: "file" },
    { kind: "text", name: "tag", value: "t" },
  ]);
});
