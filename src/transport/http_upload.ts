/**
 * HTTP(S) destinations. With a field name, the dstURL is
 * `<page holding the upload form>:<file name>` and the image is submitted
 * through that form as a browser would (multipart POST, the form's other
 * fields included); without one, the image is PUT to the dstURL.
 *
 * @module
 */
import { ImgserveError } from "../../protocol/error_codes.ts";
import type { WriteOptions } from "./mod.ts";
import { findUploadForm, type FormEntry } from "./http_form.ts";
import { idleSignal } from "./http_client.ts";
import { failureError, sendFollowing, statusCode } from "./http_exchange.ts";
import { readAtMost } from "../streams.ts";

/** Largest upload page read while looking for the form. */
const MAX_PAGE_BYTES = 4 * 1024 * 1024;
/** How much of an error reply's body goes into the error message. */
const EXCERPT_CHARS = 200;

type Idle = ReturnType<typeof idleSignal>;

/** An upload's options with HTTP's own: the upload form's file input, when the job names one. */
export interface HttpWriteOptions extends WriteOptions {
  /** Submit through the page's upload form, as this file input (the job's `args.field_name`). */
  fieldName?: string;
}

/**
 * The upload form's file input a job asked for: its args (passed through
 * unread as {@linkcode WriteOptions.jobArgs}) carry it as `fieldName`.
 *
 * @example
 * ```ts
 * formFieldOf({ width: 200, fieldName: "image" }); // "image"
 * ```
 */
export function formFieldOf(jobArgs: object | undefined): string | undefined {
  return jobArgs && "fieldName" in jobArgs && typeof jobArgs.fieldName === "string" ? jobArgs.fieldName : undefined;
}

/**
 * Uploads `bytes` to an `http(s)://` destination: through the upload form
 * when `options.fieldName` is set, else with PUT.
 *
 * @example
 * ```ts
 * await uploadHttp(new URL("http://h/upload.html:200-Ex.png"), bytes, { ...transfer, contentType: "image/png", fieldName: "file" });
 * await uploadHttp(new URL("https://h/dav/200-Ex.png"), bytes, { ...transfer, contentType: "image/png" });
 * ```
 */
export async function uploadHttp(url: URL, bytes: Uint8Array<ArrayBuffer>, options: HttpWriteOptions): Promise<void> {
  const form = options.fieldName === undefined ? undefined : splitFormDestination(url);
  const idle = idleSignal(options.timeoutMs, options.signal);
  try {
    if (form) await postThroughForm(form.pageURL, form.fileName, bytes, options, idle);
    else await put(url, bytes, options, idle);
  } catch (err) {
    throw failureError(err, "destination", url, options.signal);
  } finally {
    idle.done();
  }
}

/**
 * Splits `<page URL>:<file name>` at the last colon of the path, so the
 * colon of `host:port` never counts; the file name is percent-decoded.
 *
 * @example
 * ```ts
 * splitFormDestination(new URL("http://h:8080/upload.html:200-Ex.png"));
 * // { pageURL: http://h:8080/upload.html, fileName: "200-Ex.png" }
 * ```
 */
export function splitFormDestination(url: URL): { pageURL: URL; fileName: string } {
  const colon = url.pathname.lastIndexOf(":");
  const bad = (why: string) =>
    new ImgserveError(
      "BAD_URL",
      `with args.field_name the dstURL must be <URL of the page with the upload form>:<file name>, ` +
        `e.g. http://host/upload.html:{$basename}.png; ${why} in ${url}`,
    );
  if (colon < 0) throw bad("there is no colon in the path");
  let fileName: string;
  try {
    fileName = decodeURIComponent(url.pathname.slice(colon + 1));
  } catch {
    throw bad("the file name is not valid percent-encoding");
  }
  if (fileName === "") throw bad("the file name after the last colon is empty");
  const pageURL = new URL(url);
  pageURL.pathname = url.pathname.slice(0, colon);
  pageURL.hash = "";
  return { pageURL, fileName };
}

async function put(url: URL, bytes: Uint8Array<ArrayBuffer>, options: WriteOptions, idle: Idle): Promise<void> {
  // A pre-signed URL or WebDAV folder answers the PUT itself; a redirect there is a misconfiguration.
  const { response, url: at } = await sendFollowing(url, {
    method: "PUT",
    body: bytes,
    contentType: options.contentType,
  }, {
    options,
    idle,
    side: "destination",
    redirects: "none",
  });
  await expectSuccess(response, at, "PUT");
}

async function postThroughForm(
  pageURL: URL,
  fileName: string,
  bytes: Uint8Array<ArrayBuffer>,
  options: HttpWriteOptions,
  idle: Idle,
): Promise<void> {
  const fieldName = options.fieldName!;
  const page = await fetchPage(pageURL, options, idle);
  const form = page && findUploadForm(page.html, page.url, fieldName);
  const action = form?.action ?? pageURL;
  if (action.protocol !== "http:" && action.protocol !== "https:") {
    throw new ImgserveError("DESTINATION_REFUSED", `the upload form on ${pageURL} posts to ${action}, not http(s)`);
  }
  const entries: FormEntry[] = form?.entries ?? [{ kind: "upload", name: fieldName }];
  const data = new FormData();
  for (const entry of entries) {
    if (entry.kind === "text") data.append(entry.name, entry.value);
    else if (entry.kind === "upload") {
      data.append(entry.name, new File([bytes], fileName, { type: options.contentType }));
    } else data.append(entry.name, new File([], ""), "");
  }
  // Encoded once up front: the body gets a Content-Length, and a 307/308 can send it again.
  const encoded = new Response(data);
  const contentType = encoded.headers.get("content-type")!;
  const body = new Uint8Array(await encoded.arrayBuffer());
  const { response, url } = await sendFollowing(action, { method: "POST", body, contentType }, {
    options,
    idle,
    side: "destination",
    redirects: "standard",
  });
  await expectSuccess(response, url, "form upload");
}

/**
 * GETs the page that should hold the form; undefined when it is not a
 * 2xx HTML page, in which case the file is posted to the page URL itself.
 */
async function fetchPage(
  pageURL: URL,
  options: WriteOptions,
  idle: Idle,
): Promise<{ html: string; url: URL } | undefined> {
  const { response, url } = await sendFollowing(pageURL, { method: "GET" }, {
    options,
    idle,
    side: "destination",
    redirects: "standard",
  });
  const type = response.headers.get("content-type") ?? "";
  if (!response.ok || !/html/i.test(type) || !response.body) {
    await response.body?.cancel();
    return undefined;
  }
  const bytes = await readAtMost(response.body, MAX_PAGE_BYTES, { onChunk: () => idle.touch() });
  if (!bytes) {
    throw new ImgserveError("DESTINATION_REFUSED", `the upload page ${url} is larger than ${MAX_PAGE_BYTES} bytes`);
  }
  return { html: decodeText(bytes, type), url };
}

/** Throws for a non-2xx answer, with its status and the start of its body. */
async function expectSuccess(response: Response, url: URL, what: string): Promise<void> {
  if (response.ok) {
    await response.body?.cancel();
    return;
  }
  const excerpt = await bodyExcerpt(response);
  const redirect = response.headers.get("location");
  throw new ImgserveError(
    statusCode("destination", response.status),
    `${url} answered ${[response.status, response.statusText].filter(Boolean).join(" ")} to the ${what}` +
      (redirect && response.status < 400 ? ` (a redirect to ${redirect})` : "") +
      (excerpt ? `: ${excerpt}` : ""),
  );
}

/** The first words of an error page, tags dropped, for the error message. */
async function bodyExcerpt(response: Response): Promise<string> {
  if (!response.body) return "";
  const reader = response.body.getReader();
  try {
    const { value } = await reader.read();
    const text = new TextDecoder().decode(value?.subarray(0, 4 * EXCERPT_CHARS) ?? new Uint8Array())
      .replace(/<[^>]*>?/g, " ")
      .replace(/\s+/g, " ")
      .trim();
    return text.length > EXCERPT_CHARS ? `${text.slice(0, EXCERPT_CHARS)}…` : text;
  } catch {
    return "";
  } finally {
    await reader.cancel().catch(() => {});
  }
}

function decodeText(bytes: Uint8Array, contentType: string): string {
  const charset = /charset\s*=\s*"?([^";\s]+)/i.exec(contentType)?.[1];
  try {
    return new TextDecoder(charset ?? "utf-8").decode(bytes);
  } catch {
    return new TextDecoder().decode(bytes);
  }
}
