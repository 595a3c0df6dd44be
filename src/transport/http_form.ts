/**
 * Finds the upload form on an HTML page and lists what a browser would
 * submit with it: the form's controls in tree order, filtered and valued by
 * the HTML standard's "constructing the entry list" rules, as if the user
 * had picked one file and pressed the form's default button.
 *
 * @module
 */
import { defaultTreeAdapter, type DefaultTreeAdapterTypes, parse } from "parse5";
import { ImgserveError } from "../../protocol/error_codes.ts";

type Element = DefaultTreeAdapterTypes.Element;
type Node = DefaultTreeAdapterTypes.Node;

/** One part of the multipart body, in the order a browser sends them. */
export type FormEntry =
  | { kind: "text"; name: string; value: string }
  /** Where the uploaded image goes. */
  | { kind: "upload"; name: string }
  /** A file input left empty: browsers still send it, with filename="". */
  | { kind: "empty-file"; name: string };

/** The form to submit: where to, and with which entries. */
export interface UploadForm {
  action: URL;
  entries: FormEntry[];
}

const HTML_NS = "http://www.w3.org/1999/xhtml";
const SUBMITTABLE = new Set(["button", "input", "select", "textarea"]);
const BUTTON_INPUTS = new Set(["submit", "image", "reset", "button"]);
/** Input types whose value sanitization removes line breaks. */
const SINGLE_LINE = new Set(["text", "search", "tel", "password", "url", "email"]);

/**
 * The first form on the page holding an enabled file input named
 * `fieldName`, or undefined when there is none. Throws
 * DESTINATION_REFUSED when that form's action is not a URL.
 *
 * @example
 * ```ts
 * const form = findUploadForm(html, new URL("http://h/upload.html"), "file");
 * form?.action; // URL of the form's action, resolved against the page
 * ```
 */
export function findUploadForm(html: string, pageURL: URL, fieldName: string): UploadForm | undefined {
  // The parser's form pointer at each element's creation, as browsers use it to associate controls.
  const openForm = new Map<Element, Element>();
  const treeAdapter = {
    ...defaultTreeAdapter,
    onElementCreated(element: Element, context: { formElement: Element | null; isInTemplate: boolean }) {
      if (context.formElement && !context.isInTemplate) openForm.set(element, context.formElement);
    },
  };
  const elements = htmlElements(parse(html, { treeAdapter }));
  const forms = elements.filter((e) => e.tagName === "form");
  if (forms.length === 0) return undefined;
  const ids = new Map<string, Element>();
  for (const e of elements) {
    const id = attr(e, "id");
    if (id !== undefined && !ids.has(id)) ids.set(id, e);
  }
  const base = baseURL(elements, pageURL);
  for (const form of forms) {
    const controls = elements.filter((e) => SUBMITTABLE.has(e.tagName) && ownerOf(e, ids, openForm) === form);
    const target = controls.find((c) =>
      c.tagName === "input" && inputType(c) === "file" && attr(c, "name") === fieldName && !isDisabled(c)
    );
    if (!target) continue;
    const submitter = controls.find((c) => isSubmitButton(c) && !isDisabled(c));
    return {
      action: actionOf(form, submitter, base, pageURL),
      entries: controls.flatMap((c) => entriesOf(c, target, submitter)),
    };
  }
  return undefined;
}

/** Every HTML element in tree order (template contents are not in the tree, as in a browser). */
function htmlElements(root: Node): Element[] {
  const out: Element[] = [];
  const walk = (node: Node) => {
    if (!("childNodes" in node)) return;
    for (const child of node.childNodes) {
      if ("tagName" in child) {
        if (child.namespaceURI === HTML_NS) out.push(child);
        walk(child);
      }
    }
  };
  walk(root);
  return out;
}

function attr(e: Element, name: string): string | undefined {
  return e.attrs.find((a) => a.name === name)?.value;
}

function inputType(e: Element): string {
  return (attr(e, "type") ?? "text").trim().toLowerCase() || "text";
}

function textOf(node: Node): string {
  if (node.nodeName === "#text") return (node as DefaultTreeAdapterTypes.TextNode).value;
  return "childNodes" in node ? node.childNodes.map(textOf).join("") : "";
}

function ancestors(e: Element): Element[] {
  const out: Element[] = [];
  for (let p = e.parentNode; p && "tagName" in p; p = p.parentNode) out.push(p);
  return out;
}

/** The document base URL: the first `<base href>`, else the page. */
function baseURL(elements: Element[], pageURL: URL): URL {
  const href = elements.find((e) => e.tagName === "base" && attr(e, "href") !== undefined);
  if (!href) return pageURL;
  try {
    return new URL(attr(href, "href")!.trim(), pageURL);
  } catch {
    return pageURL;
  }
}

/**
 * The control's form owner: its `form` attribute's target, else the form
 * the parser had open when it met the control (a `<form>` inside a
 * `<table>` ends up with no children, yet browsers still associate the
 * controls that follow it until `</form>`), else the enclosing form.
 */
function ownerOf(e: Element, ids: Map<string, Element>, openForm: Map<Element, Element>): Element | undefined {
  const formId = attr(e, "form");
  if (formId !== undefined) {
    const target = ids.get(formId);
    return target?.tagName === "form" ? target : undefined;
  }
  return openForm.get(e) ?? ancestors(e).find((a) => a.tagName === "form");
}

/** Disabled itself, or inside a disabled fieldset but not in its first legend. */
function isDisabled(e: Element): boolean {
  if (attr(e, "disabled") !== undefined) return true;
  let child: Element = e;
  for (const a of ancestors(e)) {
    if (a.tagName === "fieldset" && attr(a, "disabled") !== undefined) {
      const firstLegend = a.childNodes.find((n) => "tagName" in n && n.tagName === "legend");
      if (child !== firstLegend) return true;
    }
    child = a;
  }
  return false;
}

function isSubmitButton(e: Element): boolean {
  if (e.tagName === "button") return ((attr(e, "type") ?? "submit").trim().toLowerCase() || "submit") === "submit";
  return e.tagName === "input" && (inputType(e) === "submit" || inputType(e) === "image");
}

function actionOf(form: Element, submitter: Element | undefined, base: URL, pageURL: URL): URL {
  const action = ((submitter && attr(submitter, "formaction")) ?? attr(form, "action") ?? "").trim();
  // An empty action means the document's own URL, not the base URL.
  if (action === "") return new URL(pageURL);
  try {
    return new URL(action, base);
  } catch {
    throw new ImgserveError("DESTINATION_REFUSED", `the upload form on ${pageURL} has an invalid action "${action}"`);
  }
}

function entriesOf(c: Element, target: Element, submitter: Element | undefined): FormEntry[] {
  if (isDisabled(c) || ancestors(c).some((a) => a.tagName === "datalist")) return [];
  const name = attr(c, "name") ?? "";
  const type = c.tagName === "input" ? inputType(c) : c.tagName;
  if (c.tagName === "button" || BUTTON_INPUTS.has(type)) {
    if (c !== submitter) return [];
    if (type === "image") {
      const prefix = name === "" ? "" : `${name}.`;
      return [text(`${prefix}x`, "0"), text(`${prefix}y`, "0")];
    }
    return name === "" ? [] : [text(name, attr(c, "value") ?? "")];
  }
  if (name === "") return [];
  switch (type) {
    case "file":
      return [c === target ? { kind: "upload", name } : { kind: "empty-file", name }];
    case "checkbox":
    case "radio":
      return attr(c, "checked") === undefined ? [] : [text(name, attr(c, "value") ?? "on")];
    case "select":
      return selectedOptions(c).map((o) => text(name, optionValue(o)));
    case "textarea":
      return [text(name, textOf(c)), ...direction(c)];
  }
  if (type === "hidden" && name.toLowerCase() === "_charset_") return [text(name, "UTF-8")];
  let value = attr(c, "value") ?? "";
  if (SINGLE_LINE.has(type)) value = value.replace(/[\r\n]/g, "");
  if (type === "url" || type === "email") value = value.trim();
  return [text(name, value), ...(type === "text" || type === "search" ? direction(c) : [])];
}

function text(name: string, value: string): FormEntry {
  return { kind: "text", name, value };
}

/** The `dirname` entry; pages imgserve reads are taken as left-to-right. */
function direction(c: Element): FormEntry[] {
  const dirname = attr(c, "dirname");
  return dirname ? [text(dirname, "ltr")] : [];
}

/** Options selected on load: `selected` ones, else the first enabled one of a drop-down. */
function selectedOptions(select: Element): Element[] {
  const options = htmlElements(select).filter((e) => e.tagName === "option");
  const enabled = (o: Element) =>
    attr(o, "disabled") === undefined &&
    !ancestors(o).some((a) => a.tagName === "optgroup" && attr(a, "disabled") !== undefined);
  const marked = options.filter((o) => attr(o, "selected") !== undefined);
  const size = Number.parseInt(attr(select, "size") ?? "", 10);
  if (attr(select, "multiple") !== undefined) return marked.filter(enabled);
  // A single select shows one option as chosen: the last marked, else the first usable one.
  const chosen = marked.at(-1) ?? (Number.isNaN(size) || size <= 1 ? options.find(enabled) : undefined);
  return chosen && enabled(chosen) ? [chosen] : [];
}

function optionValue(o: Element): string {
  return attr(o, "value") ?? textOf(o).replace(/[\t\n\f\r ]+/g, " ").trim();
}
