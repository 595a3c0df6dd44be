/**
 * TLS for FTPS control and data connections: OpenSSL 3 where it can be
 * loaded (data connections then resume the control connection's session,
 * as vsftpd, ProFTPD and most servers demand by default), else Deno's own
 * TLS, which cannot resume sessions. Callers see one stream shape either way.
 *
 * @module
 */
import { openSsl, OpenSslStream } from "./openssl_stream.ts";

/** A TLS connection, whichever engine runs it. */
export interface TlsStream {
  /** Completes the handshake; certificate problems reject here. */
  handshake(): Promise<unknown>;
  /** Plaintext in; null at the end. */
  read(buf: Uint8Array): Promise<number | null>;
  /** Plaintext out; returns how many bytes were taken. */
  write(bytes: Uint8Array): Promise<number>;
  /** Sends close_notify and half-closes the socket. */
  closeWrite(): Promise<void>;
  /** Closes the socket and frees the connection. */
  close(): void;
}

/**
 * Starts TLS on `conn`, verifying the certificate against `hostname` (the
 * name in the URL, not the resolved address) with the system roots plus
 * `caCerts`. A data connection passes its `control` connection, whose
 * session it resumes. The handshake runs on the first read or write, or on
 * `handshake()`.
 */
export async function secure(
  conn: Deno.TcpConn,
  hostname: string,
  caCerts: string[],
  control?: TlsStream,
): Promise<TlsStream> {
  const resumeFrom = control instanceof OpenSslStream ? control : undefined;
  // A data connection uses the engine its control connection uses.
  const openssl = control && !resumeFrom ? null : OpenSslStream.connect(conn, { hostname, caCerts, resumeFrom });
  return openssl ?? await Deno.startTls(conn, { hostname: hostname.replace(/^\[(.*)\]$/, "$1"), caCerts });
}

/**
 * What to add to a server's "session reuse required" refusal: why it
 * happened, when FTPS runs on Deno's TLS.
 */
export function sessionReuseHint(): string {
  if (openSsl()) return "";
  return " (OpenSSL 3 (libssl.so.3) could not be loaded, and Deno's TLS cannot resume the control connection's" +
    " TLS session on the data connection; install OpenSSL 3, allow FFI, or make the server not require it," +
    " e.g. vsftpd require_ssl_reuse=NO)";
}

/**
 * Reads until the peer closes. After an upload's closeWrite (TLS
 * close_notify), the server's own close proves it has read every byte.
 * A peer that closes without close_notify has still read everything.
 */
export async function awaitPeerClose(conn: { read(buf: Uint8Array): Promise<number | null> }): Promise<void> {
  const buf = new Uint8Array(1024);
  try {
    while (await conn.read(buf) !== null) {
      // Servers send nothing here; anything that comes is dropped.
    }
  } catch {
    // Closed by us (a time limit fired) or without close_notify: both end the wait.
  }
}
