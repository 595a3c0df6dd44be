import { assertEquals } from "../helpers/assert.ts";
import { tempDir } from "../helpers/server.ts";
import { FileRoots } from "../../src/security/files.ts";
import { digestOf, openGuard, urlIdentity } from "../../src/transport/mod.ts";
import { builtinTransports } from "../../src/transport/table.ts";

const options = { timeoutMs: 5000, caCerts: [], guard: openGuard };

Deno.test("a URL's identity without its transport's own: no credentials, fragment, default port or https/http difference", () => {
  const key = urlIdentity(new URL("https://u:p@h:443/a%20b.png?v=1#x"));
  assertEquals(key, "http://h/a b.png?v=1");
  assertEquals(urlIdentity(new URL("http://h/a%20b.png?v=1")), key);
});

Deno.test("withdraw removes a placeholder only while the file there is still exactly it", async () => {
  await using dir = await tempDir();
  const transports = builtinTransports(await FileRoots.resolve([dir.path]));
  const placeholder = new Uint8Array([1, 2, 3]);
  const url = new URL(`file://${dir.path}/a.png`);
  await Deno.writeFile(`${dir.path}/a.png`, new Uint8Array([1, 2, 4]));
  await transports.withdraw(url, digestOf(placeholder), options);
  assertEquals(await Deno.readFile(`${dir.path}/a.png`), new Uint8Array([1, 2, 4]));
  await Deno.writeFile(`${dir.path}/a.png`, placeholder);
  await transports.withdraw(url, digestOf(placeholder), options);
  assertEquals([...Deno.readDirSync(dir.path)], []);
});

Deno.test("a transport with nothing to keep, clean or withdraw (HTTP) gets the table's quiet defaults", async () => {
  const transports = builtinTransports(await FileRoots.resolve([]));
  const url = new URL("http://127.0.0.1:9/a.png");
  await transports.settle(url, "job", "failed", options);
  await transports.cleanUp(url, "job", options);
  await transports.withdraw(url, digestOf(new Uint8Array([1])), options);
  assertEquals([transports.localSource(url, options), transports.localDestination(url, { id: "j", stage: "result" })], [
    undefined,
    undefined,
  ]);
});
