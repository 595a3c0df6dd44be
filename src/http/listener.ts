/**
 * The HTTP listener: our own accept loop, because `Deno.serve` has no
 * connection cap and no timeouts, and stops listening for good after an
 * accept fails with EMFILE. Here the open connections are counted and
 * those past `--max-connections` get a 503 before the descriptors run out,
 * an accept error waits and tries again (as Go's net/http does), and each
 * connection is bounded by {@linkcode HttpConnection}.
 *
 * @module
 */
import { errorBody } from "../errors.ts";
import { ImgserveError } from "../../protocol/error_codes.ts";
import { type ConnectionTimeouts, HttpConnection, replyBytes } from "./connection.ts";
import { closeQuietly } from "../resources.ts";

/** What the listener needs. */
export interface ListenOptions extends ConnectionTimeouts {
  hostname: string;
  port: number;
  /** Open connections past which new ones are turned away. */
  maxConnections: number;
  handler: (request: Request) => Response | Promise<Response>;
  log?: (line: string) => void;
}

/** A running listener. */
export interface HttpListener {
  addr: Deno.NetAddr;
  /** Connections open now. */
  readonly connections: number;
  /** Stops accepting, closes idle connections, lets the others finish their reply. */
  shutdown(): Promise<void>;
}

/** Turned-away connections answered at once; past this they are closed without a word. */
const MAX_TURNING_AWAY = 64;
/** How long a turned-away client has to read its 503. */
const TURN_AWAY_MS = 200;
/** Longest pause after a failed accept. */
const MAX_ACCEPT_BACKOFF_MS = 1000;

/**
 * The soft limit on open descriptors (Deno raises it to the hard limit at
 * start, as nginx and Go do), from /proc; 1024 where that cannot be read.
 */
export function openFileLimit(): number {
  try {
    const line = /^Max open files\s+(\d+|unlimited)/m.exec(Deno.readTextFileSync("/proc/self/limits"));
    if (line) return line[1] === "unlimited" ? 1 << 20 : Number(line[1]);
  } catch {
    // not Linux, or no /proc
  }
  return 1024;
}

/**
 * The default `--max-connections`: half the descriptors, the other half
 * left to sources, destinations, workers and the journal; 10000 at most.
 */
export function defaultMaxConnections(limit = openFileLimit()): number {
  return Math.max(16, Math.min(10_000, Math.floor(limit / 2)));
}

/**
 * Starts listening.
 *
 * @example
 * ```ts
 * const http = listenHttp({ hostname: "127.0.0.1", port: 0, maxConnections: 100, headerTimeoutMs: 10_000,
 *   bodyTimeoutMs: 10_000, keepAliveTimeoutMs: 5000, handler: app.fetch });
 * await http.shutdown();
 * ```
 */
export function listenHttp(options: ListenOptions): HttpListener {
  const listener = Deno.listen({ hostname: options.hostname, port: options.port, transport: "tcp" });
  const addr = listener.addr;
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  const connectionOptions = { ...options, base: `http://${host}:${addr.port}` };
  const open = new Map<HttpConnection, Promise<void>>();
  let turningAway = 0;
  let closed = false;
  let acceptErrors = 0;
  let lastAcceptLog = 0;

  const turnAway = async (conn: Deno.Conn) => {
    if (turningAway >= MAX_TURNING_AWAY) return conn.close();
    turningAway++;
    const error = new ImgserveError(
      "TOO_MANY_CONNECTIONS",
      `the server has ${open.size} open connections, its limit; try again shortly`,
    );
    const bye = replyBytes(503, errorBody(error), "retry-after: 1\r\n");
    const timer = setTimeout(() => conn.close(), TURN_AWAY_MS);
    try {
      await conn.write(bye);
      await conn.closeWrite();
      // Read what the client sent, so closing does not reset the connection before it has read the 503.
      const sink = new Uint8Array(4096);
      while (await conn.read(sink) !== null);
    } catch {
      // closed by the timer or the client
    } finally {
      clearTimeout(timer);
      closeQuietly(conn);
      turningAway--;
    }
  };

  const acceptLoop = async () => {
    let backoff = 0;
    while (!closed) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
        backoff = 0;
      } catch (err) {
        if (closed) return;
        // EMFILE and the like pass once connections close: wait, never give up the port.
        backoff = Math.min(MAX_ACCEPT_BACKOFF_MS, backoff ? backoff * 2 : 5);
        acceptErrors++;
        if (Date.now() - lastAcceptLog > 10_000) {
          lastAcceptLog = Date.now();
          options.log?.(`accept failed (${acceptErrors} times so far): ${(err as Error).message}; still listening`);
        }
        await new Promise((r) => setTimeout(r, backoff));
        continue;
      }
      if (open.size >= options.maxConnections) {
        turnAway(conn);
        continue;
      }
      try {
        (conn as Deno.TcpConn).setNoDelay(true);
      } catch {
        // closed already
      }
      const connection = new HttpConnection(conn, connectionOptions);
      open.set(connection, connection.serve().finally(() => open.delete(connection)));
    }
  };
  const accepting = acceptLoop();

  return {
    addr,
    get connections() {
      return open.size;
    },
    async shutdown() {
      closed = true;
      listener.close();
      await accepting;
      for (const connection of open.keys()) connection.closeWhenIdle();
      await Promise.allSettled([...open.values()]);
    },
  };
}
