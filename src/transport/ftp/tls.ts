/**
 * TLS for FTPS control and data connections, on rustls via Deno.startTls.
 *
 * Measured with vsftpd 3.0.3 (require_ssl_reuse=YES): Deno does not resume
 * the control connection's TLS session on a data connection, since each
 * startTls call has its own session cache; such servers answer 522 on every
 * transfer. Servers must not require session reuse.
 *
 * @module
 */

/**
 * Starts TLS on `conn`, verifying the certificate against `hostname` (the
 * name in the URL, not the resolved address) with the system roots plus
 * `caCerts`. The handshake runs on the first read or write, or on
 * `handshake()`.
 */
export function secure(
  conn: Deno.TcpConn,
  hostname: string,
  caCerts: string[],
): Promise<Deno.TlsConn> {
  return Deno.startTls(conn, {
    hostname: hostname.replace(/^\[(.*)\]$/, "$1"),
    caCerts,
  });
}

/**
 * Reads until the peer closes. After an upload's closeWrite (TLS
 * close_notify), the server's own close proves it has read every byte.
 * A peer that closes without close_notify has still read everything.
 */
export async function awaitPeerClose(
  conn: Deno.TcpConn | Deno.TlsConn,
): Promise<void> {
  const buf = new Uint8Array(1024);
  try {
    while (await conn.read(buf) !== null) {
      // Servers send nothing here; anything that comes is dropped.
    }
  } catch {
    // Closed by us (a time limit fired) or without close_notify: both end the wait.
  }
}
