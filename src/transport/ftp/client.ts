/**
 * An FTP session on Deno's sockets: login, binary mode, passive data
 * connections (EPSV, then PASV), RETR as a stream, STOR, RNFR/RNTO, MKD,
 * DELE, with TLS on control and data for ftps:/ftpes:.
 *
 * @module
 */
import { type ErrorName, ImgserveError } from "../../../protocol/error_codes.ts";
import { isIpLiteral } from "../../security/addresses.ts";
import type { TransferOptions } from "../mod.ts";
import { type Conn, ControlConnection, type FtpEndpoint, type FtpSide } from "./control.ts";
import { describeReply, replyClass } from "./reply.ts";
import { awaitPeerClose, type TlsStream } from "./tls.ts";

export type { FtpEndpoint, FtpSecurity, FtpSide } from "./control.ts";

const CHUNK = 64 * 1024;

/**
 * One logged-in FTP session.
 *
 * @example
 * ```ts
 * const client = await FtpClient.connect(endpoint, "source", options);
 * const stream = await client.download("pub/a.png"); // closes the client at its end
 * ```
 */
export class FtpClient {
  readonly #control: ControlConnection;
  #protected = false;
  #epsv = true;

  private constructor(control: ControlConnection) {
    this.#control = control;
  }

  /** Connects, secures, logs in and switches to binary; closes everything on failure. */
  static async connect(endpoint: FtpEndpoint, side: FtpSide, options: TransferOptions): Promise<FtpClient> {
    const client = new FtpClient(new ControlConnection(endpoint, side, options));
    try {
      await client.#start();
      return client;
    } catch (err) {
      client.close();
      throw err;
    }
  }

  async #start(): Promise<void> {
    const control = this.#control;
    await control.open();
    const { user, password, security } = control.endpoint;
    const first = await control.command(`USER ${user}`);
    if (first.code === 331) {
      await control.expect(`PASS ${password}`, [230, 202], "FTP_LOGIN_FAILED");
    } else if (first.code !== 230) {
      throw control.fail(first, `USER ${user}`, "FTP_LOGIN_FAILED");
    }
    if (security !== "none") {
      await control.expect("PBSZ 0", [200], "FTP_TLS_REQUIRED");
      await control.expect("PROT P", [200], "FTP_TLS_REQUIRED");
      this.#protected = true;
    }
    await control.expect("TYPE I", [200]);
  }

  /**
   * Starts `RETR path` and resolves once the server has agreed to send; the
   * stream then yields the bytes and closes the client when it ends, fails
   * or is cancelled. A 550 answer rejects with SOURCE_NOT_FOUND.
   */
  async download(path: string): Promise<ReadableStream<Uint8Array>> {
    const line = `RETR ${path}`;
    const data = await this.#transfer(line, (code) => code === 550 ? "SOURCE_NOT_FOUND" : "FTP_PROTOCOL");
    let pending: Promise<void> | undefined;
    const step = async (controller: ReadableStreamDefaultController<Uint8Array>) => {
      try {
        const buf = new Uint8Array(CHUNK);
        const n = await this.#readData(data, buf, line);
        if (n !== null) return controller.enqueue(buf.subarray(0, n));
        await this.#endTransfer(data, line, "FTP_PROTOCOL");
        await this.quit();
        controller.close();
      } catch (err) {
        this.close();
        controller.error(err);
      }
    };
    return new ReadableStream<Uint8Array>({
      pull: (controller) => (pending = step(controller)),
      cancel: async () => {
        this.close();
        await pending;
      },
    }, { highWaterMark: 0 });
  }

  /** Stores `bytes` as `path` with STOR (overwriting), waiting for the final 226. */
  async upload(path: string, bytes: Uint8Array): Promise<void> {
    const line = `STOR ${path}`;
    const data = await this.#transfer(line, () => "DESTINATION_NOT_WRITABLE");
    const io = <T>(work: Promise<T>) => this.#control.io(work, `sending ${line}`);
    try {
      for (let at = 0; at < bytes.byteLength;) at += await io(data.write(bytes.subarray(at, at + CHUNK)));
      // closeWrite sends TLS close_notify (vsftpd's strict_ssl_read_eof wants
      // it); the server's own close then means it has read every byte.
      await io(data.closeWrite());
      await io(awaitPeerClose(data));
    } catch (err) {
      this.#control.drop(data);
      throw err;
    }
    await this.#endTransfer(data, line, "DESTINATION_NOT_WRITABLE");
  }

  /** Renames with RNFR/RNTO; the target is replaced where the server allows it. */
  async rename(from: string, to: string): Promise<void> {
    await this.#control.expect(`RNFR ${from}`, [350], "DESTINATION_NOT_WRITABLE");
    await this.#control.expect(`RNTO ${to}`, [250], "DESTINATION_NOT_WRITABLE");
  }

  /** Creates one folder; false when the server refuses (it may already exist). */
  async makeFolder(path: string): Promise<boolean> {
    const reply = await this.#control.command(`MKD ${path}`);
    if (reply.code === 257) return true;
    if (replyClass(reply.code) === "permanent") return false;
    throw this.#control.fail(reply, `MKD ${path}`);
  }

  /** The size of a file by SIZE; undefined when there is no such file (or the server does not say). */
  async sizeOf(path: string): Promise<number | undefined> {
    const reply = await this.#control.command(`SIZE ${path}`);
    if (reply.code === 213) return Number(reply.text.trim().split(/\s+/).pop());
    if (replyClass(reply.code) === "transient") throw this.#control.fail(reply, `SIZE ${path}`);
    return undefined;
  }

  /**
   * Whether `path` is a folder, by CWD into it. It changes the session's
   * folder when true, so only ask right before giving up on the session.
   */
  async isFolder(path: string): Promise<boolean> {
    const reply = await this.#control.command(`CWD ${path}`);
    return reply.code === 250;
  }

  /** Deletes one file with DELE. */
  async remove(path: string): Promise<void> {
    await this.#control.expect(`DELE ${path}`, [250], "DESTINATION_NOT_WRITABLE");
  }

  /** Says goodbye politely, then closes; never throws. */
  async quit(): Promise<void> {
    try {
      if (!this.#control.closed) await this.#control.command("QUIT");
    } catch {
      // The session is over either way.
    } finally {
      this.close();
    }
  }

  /** Closes every socket of the session at once; safe to call twice. */
  close(): void {
    this.#control.close();
  }

  /** Closes the session, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** Opens the data connection, sends `line` and waits for its 1xx mark. */
  async #transfer(line: string, permanent: (code: number) => ErrorName): Promise<Conn> {
    const control = this.#control;
    let data: Conn = await this.#passive();
    let tls: TlsStream | undefined;
    try {
      if (this.#protected) data = tls = await control.secure(data, false);
      const mark = await control.command(line);
      if (replyClass(mark.code) !== "preliminary") throw control.fail(mark, line, permanent(mark.code));
      // After the mark: vsftpd starts its side of the handshake only after
      // the command, and pyftpdlib drops a data connection that speaks first.
      if (tls) await control.io(tls.handshake(), `securing the data connection of ${line}`);
      return data;
    } catch (err) {
      control.drop(data);
      throw err;
    }
  }

  async #passive(): Promise<Deno.TcpConn> {
    const control = this.#control;
    if (this.#epsv) {
      const reply = await control.command("EPSV");
      const m = /\((.)\1\1(\d{1,5})\1\)/.exec(reply.text);
      if (reply.code === 229 && m) return await control.dial(control.address, Number(m[2]), "opening data");
      if (replyClass(reply.code) === "transient") throw control.fail(reply, "EPSV");
      this.#epsv = false;
    }
    const reply = await control.expect("PASV", [227]);
    const m = /(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3})/.exec(reply.text);
    const n = m ? m.slice(1).map(Number) : [];
    if (!m || n.some((x) => x > 255)) {
      throw new ImgserveError("FTP_PROTOCOL", `${control.who} sent an unreadable "${describeReply(reply)}"`);
    }
    const ip = n.slice(0, 4).join(".");
    // The server names the address; it could name someone else's (FTP bounce).
    control.options.guard.checkAddress(ip);
    if (isIpLiteral(control.address) && ip !== control.address) {
      throw new ImgserveError(
        "NETWORK_FORBIDDEN",
        `${control.who} answered PASV with another host's address (${ip}, not ${control.address}); refused`,
      );
    }
    return await control.dial(ip, n[4] * 256 + n[5], "opening data");
  }

  async #readData(data: Conn, buf: Uint8Array, line: string): Promise<number | null> {
    try {
      return await this.#control.io(data.read(buf), `waiting for data of ${line}`);
    } catch (err) {
      if (this.#control.closed) throw err;
      // A broken data connection is usually explained on the control one.
      this.#control.drop(data);
      const reply = await this.#control.reply(`waiting for the end of ${line}`).catch(() => undefined);
      if (reply && reply.code >= 400) throw this.#control.fail(reply, line);
      throw err;
    }
  }

  async #endTransfer(data: Conn, line: string, permanent: ErrorName): Promise<void> {
    this.#control.drop(data);
    const reply = await this.#control.reply(`waiting for the end of ${line}`);
    if (reply.code !== 226 && reply.code !== 250) throw this.#control.fail(reply, line, permanent);
  }
}
