import { assert, assertEquals } from "../helpers/assert.ts";
import { startPinProxy } from "../../src/transport/pin_proxy.ts";

/** Sends a CONNECT for example.com:port and returns the proxy's first answer line. */
async function connectThrough(proxyURL: string, port: number, authorization?: string): Promise<string> {
  const proxy = new URL(proxyURL);
  const conn = await Deno.connect({ hostname: proxy.hostname, port: Number(proxy.port) });
  try {
    const auth = authorization ? `Proxy-Authorization: Basic ${btoa(authorization)}\r\n` : "";
    await conn.write(new TextEncoder().encode(`CONNECT example.com:${port} HTTP/1.1\r\n${auth}\r\n`));
    const buf = new Uint8Array(256);
    const n = await conn.read(buf);
    return new TextDecoder().decode(buf.subarray(0, n ?? 0)).split("\r\n")[0];
  } finally {
    conn.close();
  }
}

Deno.test("the pinning proxy tunnels only with its secret, and to the address it was given", async () => {
  const proxy = startPinProxy();
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const accepted = listener.accept();
  try {
    assertEquals(await connectThrough(proxy.url, port), "HTTP/1.1 407 Proxy Authentication Required");
    assertEquals(
      await connectThrough(proxy.url, port, "127.0.0.1:guess"),
      "HTTP/1.1 407 Proxy Authentication Required",
    );
    const { username, password } = proxy.credentials("127.0.0.1");
    // The CONNECT line names example.com, yet the tunnel goes to the checked address.
    assertEquals(
      await connectThrough(proxy.url, port, `${username}:${password}`),
      "HTTP/1.1 200 Connection Established",
    );
    const conn = await accepted;
    assert((conn.remoteAddr as Deno.NetAddr).hostname === "127.0.0.1");
    conn.close();
  } finally {
    listener.close();
    await proxy.close();
  }
});
