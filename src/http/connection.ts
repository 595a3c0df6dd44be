/**
 * One client connection, HTTP/1.1: requests read one after another, each
 * bounded in time (the head, the body, the wait for the next request on
 * a kept-alive connection, the reply's write) and in size, answered
 * through the app's fetch handler. A connection that overruns a bound is
 * answered 408 where a reply makes sense, and closed; closing drops
 * everything it held.
 *
 * @module
 */
import { STATUS_CODES } from "node:http";
import { type ErrorBody, errorBody, internalError } from "../errors.ts";
import { ImgserveError } from "../../protocol/error_codes.ts";
import { concat } from "../../shared/bytes.ts";
import { isRefusal, MAX_HEAD_BYTES, parseHead, type RequestHead } from "./head.ts";
import { closeQuietly } from "../resources.ts";

/** The time bounds of one connection, ms. */
export interface ConnectionTimeouts {
  /** From the connection's start, or a kept-alive request's first byte, to the end of its head. */
  headerTimeoutMs: number;
  /** From the end of the head to the end of the body. */
  bodyTimeoutMs: number;
  /** Longest wait for the next request on a kept-alive connection. */
  keepAliveTimeoutMs: number;
}

/** What a connection needs. */
export interface ConnectionOptions extends ConnectionTimeouts {
  handler: (request: Request) => Response | Promise<Response>;
  /** `http://host:port`, the base of every request URL. */
  base: string;
  log?: (line: string) => void;
}

/** Requests on one connection before it is closed, so no client holds one forever. */
const MAX_REQUESTS = 1000;
/** Bytes asked for per read: few, because a waiting connection holds its read's buffer. */
const READ_BYTES = 1024;
const EMPTY = new Uint8Array(0);
const HEAD_END = [13, 10, 13, 10];

type Filled = "data" | "eof" | "timeout";

/** A whole error reply the connection gives itself, its body from {@linkcode errorBody}. */
export function replyBytes(status: number, body: ErrorBody, extra = ""): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(body));
  const head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? "Status"}\r\ncontent-type: application/json\r\n` +
    `content-length: ${json.byteLength}\r\nconnection: close\r\n${extra}\r\n`;
  return concat([new TextEncoder().encode(head), json]);
}

/** Serves one accepted connection; see the module doc. */
export class HttpConnection {
  #conn: Deno.Conn;
  #options: ConnectionOptions;
  #buffered: Uint8Array = EMPTY;
  #closed = false;
  #closing = false;
  /** Waiting for a request that has not begun: safe to close at shutdown. */
  #idle = true;
  /** The event stream being sent, if any: cancelled at shutdown. */
  #streaming?: ReadableStreamDefaultReader<Uint8Array>;

  constructor(conn: Deno.Conn, options: ConnectionOptions) {
    this.#conn = conn;
    this.#options = options;
  }

  /** Reads and answers requests until the client or a bound ends the connection. */
  async serve(): Promise<void> {
    try {
      for (let n = 0; n < MAX_REQUESTS && !this.#closing; n++) {
        const head = await this.#readHead(n === 0);
        if (!head) return;
        if (!await this.#answer(head, n === MAX_REQUESTS - 1)) return;
      }
    } catch {
      // The peer went away mid-write, or the connection was closed under us: nothing to answer.
    } finally {
      this.#close();
    }
  }

  /** Closes the connection at once if it waits for a request, else after the current reply. */
  closeWhenIdle(): void {
    this.#closing = true;
    if (this.#idle) this.#close();
    this.#streaming?.cancel().catch(() => {}); // an event stream has no end of its own
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    closeQuietly(this.#conn);
  }

  /** Reads one chunk into the buffer, unless `ms` pass first. */
  async #fill(ms: number, want = READ_BYTES): Promise<Filled> {
    if (ms <= 0 || this.#closed) return this.#closed ? "eof" : "timeout";
    const chunk = new Uint8Array(want);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const read = this.#conn.read(chunk).then((n): Filled => {
      if (n === null || this.#closed) return "eof";
      this.#buffered = this.#buffered.byteLength === 0
        ? chunk.subarray(0, n)
        : concat([this.#buffered, chunk.subarray(0, n)]);
      return "data";
    }, (): Filled => "eof");
    const expired = new Promise<Filled>((resolve) => timer = setTimeout(() => resolve("timeout"), ms));
    try {
      return await Promise.race([read, expired]);
    } finally {
      clearTimeout(timer);
    }
  }

  async #readHead(first: boolean): Promise<RequestHead | undefined> {
    const { headerTimeoutMs, keepAliveTimeoutMs } = this.#options;
    this.#idle = this.#buffered.byteLength === 0;
    if (!first && this.#idle) {
      if (await this.#fill(keepAliveTimeoutMs) !== "data") return undefined; // idle too long: close quietly
    }
    const deadline = Date.now() + headerTimeoutMs;
    while (true) {
      const end = indexOf(this.#buffered, HEAD_END);
      if (end >= 0) {
        this.#idle = false;
        const text = new TextDecoder("latin1").decode(this.#buffered.subarray(0, end));
        this.#buffered = this.#buffered.subarray(end + 4);
        const head = parseHead(text);
        if (!isRefusal(head)) return head;
        await this.#send(replyBytes(head.status, errorBody({ unparsable: head.message })));
        return undefined;
      }
      if (this.#buffered.byteLength > MAX_HEAD_BYTES) {
        await this.#send(replyBytes(431, errorBody({ unparsable: "the request head is too large" })));
        return undefined;
      }
      const filled = await this.#fill(deadline - Date.now());
      if (filled === "data") this.#idle = false;
      if (filled === "timeout" && this.#buffered.byteLength > 0) {
        const error = new ImgserveError(
          "REQUEST_TIMEOUT",
          `the request head did not arrive within ${headerTimeoutMs} ms`,
        );
        await this.#send(replyBytes(408, errorBody(error)));
      }
      if (filled !== "data") return undefined;
    }
  }

  /** Answers one request; whether the connection may carry another. */
  async #answer(head: RequestHead, last: boolean): Promise<boolean> {
    const { bodyTimeoutMs } = this.#options;
    const bodyless = head.method === "GET" || head.method === "HEAD";
    let remaining = head.contentLength;
    if (head.expectContinue && remaining > 0 && !bodyless) {
      await this.#send(new TextEncoder().encode("HTTP/1.1 100 Continue\r\n\r\n"));
    }
    const deadline = Date.now() + bodyTimeoutMs;
    const body = bodyless || remaining === 0 ? null : new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        if (this.#buffered.byteLength === 0) {
          const filled = await this.#fill(deadline - Date.now(), Math.min(remaining, 16 * READ_BYTES));
          if (filled === "timeout") {
            controller.error(
              new ImgserveError("REQUEST_TIMEOUT", `the request body did not arrive within ${bodyTimeoutMs} ms`),
            );
            return;
          }
          if (filled === "eof") {
            controller.error(
              new ImgserveError("REQUEST_INCOMPLETE", "the connection closed before the body was complete"),
            );
            return;
          }
        }
        const take = this.#buffered.subarray(0, Math.min(remaining, this.#buffered.byteLength));
        this.#buffered = this.#buffered.subarray(take.byteLength);
        remaining -= take.byteLength;
        controller.enqueue(take);
        if (remaining === 0) controller.close();
      },
    }, { highWaterMark: 0 });
    let request: Request;
    try {
      request = new Request(this.#options.base + head.target, { method: head.method, headers: head.headers, body });
    } catch {
      await this.#send(replyBytes(400, errorBody({ unparsable: "the request head is malformed" })));
      return false;
    }
    let response: Response;
    try {
      response = await this.#options.handler(request);
    } catch (err) {
      this.#options.log?.(`internal error: ${(err as Error)?.stack ?? err}`);
      response = Response.json(errorBody(internalError()), { status: 500 });
    }
    // A body left unread (a refusal before reading it) would be taken for the next request.
    const keep = head.keepAlive && remaining === 0 && !this.#closing && !last;
    if (response.body && head.method !== "HEAD" && isEventStream(response)) {
      await this.#stream(response, response.body);
      return false;
    }
    const bytes = head.method === "HEAD" || response.status === 204 || response.status === 304
      ? (await response.body?.cancel(), EMPTY)
      : new Uint8Array(await response.arrayBuffer());
    let text = `HTTP/1.1 ${response.status} ${STATUS_CODES[response.status] ?? "Status"}\r\n`;
    for (const [name, value] of response.headers) {
      if (name !== "content-length" && name !== "connection" && name !== "transfer-encoding") {
        text += `${name}: ${value}\r\n`;
      }
    }
    text += `content-length: ${bytes.byteLength}\r\n`;
    text += keep ? (head.minor === 0 ? "connection: keep-alive\r\n" : "") : "connection: close\r\n";
    await this.#send(concat([new TextEncoder().encode(text + "\r\n"), bytes]));
    return keep;
  }

  /**
   * Sends an event stream as it comes, chunked, until it ends or the
   * connection closes (a shutdown closes it between chunks). Each chunk is
   * written under the same bound as any reply: a client that takes none
   * in time is disconnected, and the stream's own bound holds what waits.
   */
  async #stream(response: Response, body: ReadableStream<Uint8Array>): Promise<void> {
    let text = `HTTP/1.1 ${response.status} ${STATUS_CODES[response.status] ?? "Status"}\r\n`;
    for (const [name, value] of response.headers) {
      if (name !== "content-length" && name !== "connection" && name !== "transfer-encoding") {
        text += `${name}: ${value}\r\n`;
      }
    }
    const reader = body.getReader();
    this.#streaming = reader;
    try {
      await this.#send(new TextEncoder().encode(`${text}transfer-encoding: chunked\r\nconnection: close\r\n\r\n`));
      while (!this.#closing && !this.#closed) {
        const { done, value } = await reader.read();
        if (done) break;
        const size = new TextEncoder().encode(`${value.byteLength.toString(16)}\r\n`);
        await this.#send(concat([size, value, CRLF]));
      }
      if (!this.#closed) await this.#send(new TextEncoder().encode("0\r\n\r\n"));
    } finally {
      this.#streaming = undefined;
      await reader.cancel().catch(() => {});
    }
  }

  /** Writes all of `bytes`, closing the connection if the client will not take them in time. */
  async #send(bytes: Uint8Array): Promise<void> {
    const { headerTimeoutMs, bodyTimeoutMs } = this.#options;
    const timer = setTimeout(() => this.#close(), Math.max(headerTimeoutMs, bodyTimeoutMs));
    try {
      for (let at = 0; at < bytes.byteLength;) at += await this.#conn.write(bytes.subarray(at));
    } finally {
      clearTimeout(timer);
    }
  }
}

const CRLF = new Uint8Array([13, 10]);

/** Whether a reply is an event stream, sent as it comes rather than whole. */
function isEventStream(response: Response): boolean {
  return response.headers.get("content-type")?.split(";")[0].trim() === "text/event-stream";
}

function indexOf(haystack: Uint8Array, needle: number[]): number {
  let at = haystack.indexOf(needle[0]);
  while (at >= 0 && at <= haystack.byteLength - needle.length) {
    if (needle.every((b, i) => haystack[at + i] === b)) return at;
    at = haystack.indexOf(needle[0], at + 1);
  }
  return -1;
}
