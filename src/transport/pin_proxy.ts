/**
 * A CONNECT proxy inside imgserve, listening on 127.0.0.1, that tunnels
 * HTTPS connections to an address the network guard already checked.
 * `fetch` can be pinned to an address for plain HTTP, but not for HTTPS
 * without giving up TLS; through this proxy the TLS session still runs
 * end to end with the URL's own host name, while the TCP connection goes
 * to the checked address. The address travels in the proxy credentials,
 * with a per-process secret so nothing else on the machine can use the
 * proxy as a relay.
 *
 * @module
 */
import { closeQuietly } from "../resources.ts";

const MAX_HEADER_BYTES = 8192;
const HEADER_TIMEOUT_MS = 10_000;

/** A running proxy. */
export interface PinProxy {
  /** The proxy URL for `Deno.createHttpClient({ proxy })`. */
  url: string;
  /** Credentials that tunnel to `address`. */
  credentials(address: string): { username: string; password: string };
  close(): Promise<void>;
}

/** Starts a proxy on a free loopback port. */
export function startPinProxy(): PinProxy {
  const secret = crypto.randomUUID();
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const open = new Set<Deno.Conn>();
  const tunnels = new Set<Promise<void>>();
  const accepting = (async () => {
    for await (const conn of listener) {
      open.add(conn);
      const tunnel = serveTunnel(conn, secret, open).catch(() => {}).finally(() => {
        open.delete(conn);
        tunnels.delete(tunnel);
      });
      tunnels.add(tunnel);
    }
  })();
  return {
    url: `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    credentials: (address) => ({ username: encodeURIComponent(address), password: secret }),
    async close() {
      listener.close();
      for (const conn of open) closeQuietly(conn);
      await accepting.catch(() => {});
      await Promise.allSettled([...tunnels]);
    },
  };
}

async function readHeader(conn: Deno.Conn): Promise<{ head: string; rest: Uint8Array }> {
  const buf = new Uint8Array(MAX_HEADER_BYTES);
  let length = 0;
  const timer = setTimeout(() => closeQuietly(conn), HEADER_TIMEOUT_MS);
  try {
    while (length < buf.length) {
      const n = await conn.read(buf.subarray(length));
      if (n === null) throw new Error("closed before the request ended");
      length += n;
      const text = new TextDecoder("latin1").decode(buf.subarray(0, length));
      const end = text.indexOf("\r\n\r\n");
      if (end >= 0) return { head: text.slice(0, end), rest: buf.slice(end + 4, length) };
    }
    throw new Error("request header too large");
  } finally {
    clearTimeout(timer);
  }
}

async function serveTunnel(conn: Deno.Conn, secret: string, open: Set<Deno.Conn>): Promise<void> {
  const encoder = new TextEncoder();
  const { head, rest } = await readHeader(conn);
  const [requestLine, ...lines] = head.split("\r\n");
  const target = /^CONNECT ([^\s]+):(\d+) HTTP\/1\.[01]$/.exec(requestLine);
  const auth = lines.find((l) => /^proxy-authorization:/i.test(l))?.replace(/^[^:]*:\s*basic\s+/i, "");
  const [user, password] = auth ? atob(auth).split(":") : [];
  if (!target || password !== secret || !user) {
    await conn.write(encoder.encode("HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n"));
    return;
  }
  let upstream: Deno.TcpConn;
  try {
    upstream = await Deno.connect({ hostname: decodeURIComponent(user), port: Number(target[2]) });
  } catch {
    await conn.write(encoder.encode("HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n"));
    return;
  }
  open.add(upstream);
  try {
    await conn.write(encoder.encode("HTTP/1.1 200 Connection Established\r\n\r\n"));
    if (rest.length > 0) await upstream.write(rest);
    await Promise.allSettled([
      conn.readable.pipeTo(upstream.writable),
      upstream.readable.pipeTo(conn.writable),
    ]);
  } finally {
    open.delete(upstream);
    closeQuietly(upstream);
  }
}
