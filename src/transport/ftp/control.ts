/**
 * The control connection of one FTP session, and the bookkeeping of every
 * socket the session opens: all are closed together when a limit fires,
 * on error, or at the end.
 *
 * @module
 */
import { type ErrorName, ImgserveError } from "../../../protocol/error_codes.ts";
import { connectionError, networkReason, type TransferOptions } from "../mod.ts";
import { withinLimits } from "./deadline.ts";
import { describeReply, type FtpReply, LineSplitter, replyClass, ReplyParser, ReplyTooLong } from "./reply.ts";
import { secure, sessionReuseHint, type TlsStream } from "./tls.ts";
import { closeQuietly } from "../../resources.ts";

/** How TLS is used: not at all, from the first byte (ftps), or after AUTH TLS (ftpes). */
export type FtpSecurity = "none" | "implicit" | "explicit";

/** Where and as whom to log in. */
export interface FtpEndpoint {
  hostname: string;
  port: number;
  security: FtpSecurity;
  user: string;
  password: string;
}

/** Whether the session reads a source or writes a destination; picks error kinds. */
export type FtpSide = "source" | "destination";

/** A TCP or TLS socket of the session. */
export type Conn = Deno.TcpConn | TlsStream;

const encoder = new TextEncoder();
const MAX_REPLY_LINE = 16 * 1024;

/**
 * Commands and replies on the control connection, each bounded by the
 * transfer's `timeoutMs` and `signal`.
 *
 * @example
 * ```ts
 * const control = new ControlConnection(endpoint, "source", options);
 * await control.open(); // connected, greeted, TLS if asked for
 * await control.expect("TYPE I", [200]);
 * ```
 */
export class ControlConnection {
  /** The address the control connection went to; EPSV data goes there too. */
  address = "";
  readonly endpoint: FtpEndpoint;
  readonly side: FtpSide;
  readonly options: TransferOptions;
  readonly #open = new Set<Conn>();
  readonly #splitter = new LineSplitter();
  readonly #parser = new ReplyParser();
  readonly #lines: string[] = [];
  readonly #buf = new Uint8Array(4096);
  #conn!: Conn;
  #closed = false;

  constructor(endpoint: FtpEndpoint, side: FtpSide, options: TransferOptions) {
    this.endpoint = endpoint;
    this.side = side;
    this.options = options;
  }

  /** Connects to the guard-approved address and reads the greeting; TLS per the endpoint. */
  async open(): Promise<void> {
    const { hostname, port, security } = this.endpoint;
    this.address = await this.options.guard.resolve(hostname);
    this.#conn = await this.dial(this.address, port, "connecting");
    if (security === "implicit") this.#conn = await this.secure(this.#conn, true);
    let greeting = await this.reply("waiting for the greeting");
    if (greeting.code === 120) greeting = await this.reply("waiting for the greeting");
    if (greeting.code !== 220) throw this.fail(greeting, "the connection");
    if (security !== "explicit") return;
    const auth = await this.command("AUTH TLS");
    // Even a 4xx here ends it: USER and PASS must never go in clear.
    if (auth.code !== 234) throw this.fail(auth, "AUTH TLS", "FTP_TLS_REQUIRED", false);
    // Bytes sent before the handshake must not pass as protected replies.
    if (this.#lines.length || this.#splitter.buffered) {
      throw new ImgserveError("FTP_PROTOCOL", `${this.who} sent data before the TLS handshake`);
    }
    this.#conn = await this.secure(this.#conn, true);
  }

  /** Sends one command line and returns the server's reply. */
  async command(line: string): Promise<FtpReply> {
    const bytes = encoder.encode(line + "\r\n");
    await this.io(writeAll(this.#conn, bytes), `sending ${shown(line)}`);
    return await this.reply(`waiting for the answer to ${shown(line)}`);
  }

  /** Sends `line`; any reply code not in `ok` becomes an error (4xx: FTP_TRANSIENT). */
  async expect(line: string, ok: number[], permanent: ErrorName = "FTP_PROTOCOL"): Promise<FtpReply> {
    const reply = await this.command(line);
    if (!ok.includes(reply.code)) throw this.fail(reply, line, permanent);
    return reply;
  }

  /** Reads the next complete reply. */
  async reply(what: string): Promise<FtpReply> {
    while (true) {
      while (this.#lines.length) {
        const reply = this.#parse(this.#lines.shift()!, what);
        if (reply) return reply;
      }
      const n = await this.io(this.#conn.read(this.#buf), what);
      if (n === null) throw new ImgserveError(this.unreachable, `${this.who} closed the connection ${what}`);
      this.#lines.push(...this.#splitter.push(this.#buf.subarray(0, n)));
      if (this.#splitter.buffered > MAX_REPLY_LINE) {
        throw new ImgserveError("FTP_PROTOCOL", `${this.who} sent a reply line over ${MAX_REPLY_LINE} characters`);
      }
    }
  }

  /** Opens a TCP connection that the session will close. */
  async dial(hostname: string, port: number, what: string): Promise<Deno.TcpConn> {
    const abort = new AbortController();
    const connecting = Deno.connect({ hostname, port, signal: abort.signal });
    // The server's own address is in this.who already; a data connection's may differ.
    const same = hostname === this.endpoint.hostname && port === this.endpoint.port;
    const conn = await this.io(connecting, same ? what : `${what} to ${hostname}:${port}`, () => abort.abort());
    if (this.#closed) {
      closeQuietly(conn);
      throw new ImgserveError(this.unreachable, `${this.who}: the session was closed`);
    }
    this.#open.add(conn);
    return conn;
  }

  /**
   * Starts TLS on one of the session's sockets, optionally finishing the
   * handshake. A data connection (`handshake` false) resumes the control
   * connection's TLS session where the engine can.
   */
  async secure(conn: Conn, handshake: boolean): Promise<TlsStream> {
    this.#open.delete(conn);
    const { hostname } = this.endpoint;
    const control = handshake ? undefined : this.#conn as TlsStream;
    const securing = secure(conn as Deno.TcpConn, hostname, this.options.caCerts, control);
    const tls = await this.io(securing, "starting TLS").catch((err) => {
      closeQuietly(conn);
      throw err;
    });
    this.#open.add(tls);
    if (handshake) await this.io(tls.handshake(), `in the TLS handshake with ${hostname}`);
    return tls;
  }

  /**
   * Bounds `work` by the limits (closing the session when they fire); socket
   * errors become SOURCE_UNREACHABLE or DESTINATION_UNREACHABLE.
   */
  async io<T>(work: Promise<T>, what: string, onFire = () => this.close()): Promise<T> {
    try {
      return await withinLimits(work, this.options, what, onFire);
    } catch (err) {
      if (err instanceof ImgserveError || this.options.signal?.aborted) throw err;
      const message = err instanceof Error ? err.message : String(err);
      throw connectionError(this.side, `${this.who} ${what}: ${networkReason(message)}`, err);
    }
  }

  /**
   * The error for an unwanted reply, with its code and text. 4xx is
   * FTP_TRANSIENT unless `transientIf4xx` is false.
   */
  fail(reply: FtpReply, line: string, permanent: ErrorName = "FTP_PROTOCOL", transientIf4xx = true): ImgserveError {
    const transient = transientIf4xx && replyClass(reply.code) === "transient";
    let message = `${this.who} answered "${describeReply(reply)}" to ${shown(line)}`;
    if (/session reuse/i.test(reply.text)) message += sessionReuseHint();
    return new ImgserveError(transient ? "FTP_TRANSIENT" : permanent, message);
  }

  /** Closes one socket of the session now. */
  drop(conn: Conn): void {
    this.#open.delete(conn);
    closeQuietly(conn);
  }

  /** Closes every socket of the session; safe to call twice. */
  close(): void {
    this.#closed = true;
    for (const conn of this.#open) closeQuietly(conn);
    this.#open.clear();
  }

  /** Whether close() has run (a limit fired, or the session ended). */
  get closed(): boolean {
    return this.#closed;
  }

  /** The "unreachable" kind of this side. */
  get unreachable(): ErrorName {
    return this.side === "source" ? "SOURCE_UNREACHABLE" : "DESTINATION_UNREACHABLE";
  }

  /** The server, as named in messages. */
  get who(): string {
    return `the FTP server ${this.endpoint.hostname}:${this.endpoint.port}`;
  }

  #parse(line: string, what: string): FtpReply | undefined {
    try {
      return this.#parser.push(line);
    } catch (err) {
      if (err instanceof ReplyTooLong) {
        throw new ImgserveError("FTP_PROTOCOL", `${this.who} sent ${err.message} ${what}; refused`);
      }
      throw new ImgserveError("FTP_PROTOCOL", `${this.who} sent a malformed reply: ${(err as Error).message}`);
    }
  }
}

function shown(line: string): string {
  return line.startsWith("PASS ") ? "PASS" : line;
}

async function writeAll(conn: Conn, bytes: Uint8Array): Promise<void> {
  for (let at = 0; at < bytes.byteLength;) at += await conn.write(bytes.subarray(at));
}
