/**
 * Ports for the servers tests start. Our own servers and pyftpdlib bind
 * port 0 and say which port the OS gave them, so no port is guessed. Only
 * servers that must be told a port (vsftpd, ProFTPD, `imgserve start`,
 * `deno serve`) get one from {@linkcode freePort}, started through
 * {@linkcode onFreePort} where a lost race would fail a test.
 *
 * @module
 */
import { pollUntil } from "./poll.ts";

/**
 * A TCP port on 127.0.0.1 that the OS handed out a moment ago and nothing
 * listens on now. The probe's listener is closed before the caller binds,
 * so another process may take the port in between: use it for a port
 * where nothing should answer, or through {@linkcode onFreePort}.
 */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/**
 * Starts a server that cannot bind port 0 itself on a {@linkcode freePort}.
 * When `start` throws (the usual cause: the port was taken between the
 * probe and the server's bind), it tries again with another port the OS
 * hands out, up to `attempts` times in all, and then throws the last error.
 *
 * @example
 * ```ts
 * const server = await onFreePort((port) => startDaemonOn(port));
 * ```
 */
export async function onFreePort<T>(start: (port: number) => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; attempt < attempts; attempt++) {
    try {
      return await start(freePort());
    } catch {
      // Another port may do.
    }
  }
  return await start(freePort());
}

/**
 * Waits until a server `child` that has no "ready" signal of its own
 * accepts connections on `port`; fails at once if it exits first, and
 * after `timeoutMs` if it never listens, having stopped it.
 */
export async function waitForPort(
  port: number,
  child: Deno.ChildProcess,
  name: string,
  timeoutMs = 5000,
): Promise<void> {
  let exited = false;
  child.status.then(() => exited = true);
  try {
    await pollUntil(async () => {
      if (exited) throw new Error(`${name} exited before it listened on ${port}`);
      try {
        (await Deno.connect({ hostname: "127.0.0.1", port })).close();
        return true;
      } catch {
        return false;
      }
    }, { timeoutMs, message: `${name} listening on ${port}` });
  } catch (err) {
    if (!exited) child.kill();
    await child.status;
    throw err;
  }
}
