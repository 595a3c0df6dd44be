/**
 * An HTTP/1.x request head (request line and headers) → a checked
 * {@linkcode RequestHead}, or the status to refuse it with. Strict on
 * purpose: no folded lines, one Content-Length, no Transfer-Encoding (a
 * job is a small JSON body; chunked bodies would bring request smuggling
 * questions for nothing).
 *
 * @module
 */

/** Largest request head, bytes; past it, 431. */
export const MAX_HEAD_BYTES = 16 * 1024;
/** Most header lines; past it, 431. */
const MAX_HEADERS = 100;

/** A parsed request head. */
export interface RequestHead {
  method: string;
  /** Path and query, as sent (an absolute-form target is cut to these). */
  target: string;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  minor: number;
  headers: [string, string][];
  /** Body length from Content-Length; 0 without one. */
  contentLength: number;
  /** Whether the client wants the connection kept open. */
  keepAlive: boolean;
  /** Whether the client waits for `100 Continue` before sending the body. */
  expectContinue: boolean;
}

/** Why a head is refused: an HTTP status and a sentence. */
export interface HeadRefusal {
  status: 400 | 411 | 431 | 501 | 505;
  message: string;
}

const REQUEST_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) (\S+) HTTP\/1\.([01])$/;
const HEADER_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*(.*?)[ \t]*$/;

/**
 * Parses a head (without its final empty line), in latin1 as HTTP has it.
 *
 * @example
 * ```ts
 * const head = parseHead("GET /healthz HTTP/1.1\r\nHost: x");
 * ```
 */
export function parseHead(text: string): RequestHead | HeadRefusal {
  const lines = text.split("\r\n");
  const requestLine = REQUEST_LINE.exec(lines[0]);
  if (!requestLine) {
    return /^\S+ \S+ HTTP\/\d/.test(lines[0])
      ? { status: 505, message: "only HTTP/1.0 and HTTP/1.1 are spoken here" }
      : { status: 400, message: "the request line is malformed" };
  }
  const [, method, rawTarget, minor] = requestLine;
  let target = rawTarget;
  if (!target.startsWith("/")) {
    // absolute-form, as sent to proxies
    try {
      const url = new URL(target);
      target = url.pathname + url.search;
    } catch {
      return { status: 400, message: "the request target is malformed" };
    }
  }
  if (lines.length - 1 > MAX_HEADERS) return { status: 431, message: `more than ${MAX_HEADERS} header lines` };
  const headers: [string, string][] = [];
  let contentLength: string | undefined;
  let connection = "";
  let expectContinue = false;
  for (const line of lines.slice(1)) {
    const header = HEADER_LINE.exec(line);
    if (!header) return { status: 400, message: "a header line is malformed" };
    const [, name, value] = header;
    const lower = name.toLowerCase();
    if (lower === "transfer-encoding") {
      return { status: 411, message: "send the body with a Content-Length, not a Transfer-Encoding" };
    }
    if (lower === "content-length") {
      if (!/^\d{1,15}$/.test(value) || (contentLength !== undefined && contentLength !== value)) {
        return { status: 400, message: "the Content-Length is malformed" };
      }
      contentLength = value;
    }
    if (lower === "connection") connection += "," + value.toLowerCase();
    if (lower === "expect" && value.toLowerCase() === "100-continue") expectContinue = true;
    headers.push([name, value]);
  }
  const tokens = connection.split(",").map((t) => t.trim());
  const keepAlive = minor === "1" ? !tokens.includes("close") : tokens.includes("keep-alive");
  return {
    method,
    target,
    minor: Number(minor),
    headers,
    contentLength: Number(contentLength ?? 0),
    keepAlive,
    expectContinue,
  };
}

/** Whether a parse result is a refusal. */
export function isRefusal(head: RequestHead | HeadRefusal): head is HeadRefusal {
  return "status" in head;
}
