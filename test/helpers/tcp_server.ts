/**
 * A TCP server on 127.0.0.1 that runs one handler per connection, for
 * misbehaving servers that real ones will not play on demand.
 *
 * @module
 */

/** Bytes a flooding server sends per connection at most, so a client that never stops still ends the test. */
export const FLOOD_BOUND = 200 * 1000 * 1000;

/** A running server; disposing it closes the listener and every connection. */
export interface FakeServer extends AsyncDisposable {
  port: number;
  /** What the handlers noted, in order (an FTP server: every command line it received). */
  received: string[];
}

/** What runs for each connection; the connection is closed when it settles. */
export type ConnectionHandler = (conn: Deno.Conn, received: string[]) => Promise<void>;

/**
 * Starts the server.
 *
 * @example
 * ```ts
 * await using server = startTcpServer(async (conn) => void await conn.write(new TextEncoder().encode("hi")));
 * ```
 */
export function startTcpServer(handler: ConnectionHandler): FakeServer {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const received: string[] = [];
  const conns = new Set<Deno.Conn>();
  const sessions: Promise<void>[] = [];
  const accepting = (async () => {
    for await (const conn of listener) {
      conns.add(conn);
      sessions.push(
        handler(conn, received).catch(() => {}).finally(() => {
          conns.delete(conn);
          try {
            conn.close();
          } catch {
            // Closed by dispose already.
          }
        }),
      );
    }
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    received,
    async [Symbol.asyncDispose]() {
      listener.close();
      for (const conn of conns) conn.close();
      conns.clear();
      await accepting.catch(() => {});
      await Promise.all(sessions);
    },
  };
}
