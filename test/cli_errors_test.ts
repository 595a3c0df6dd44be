import { assert, assertEquals } from "./helpers/assert.ts";
import { freePort } from "./helpers/ports.ts";
import { tempDir } from "./helpers/server.ts";
import { type CliExit, imgserveCli } from "./helpers/process.ts";

/** Runs the CLI; one still running after 20 s fails the test as hung. */
const imgserve = (args: string[], prefix: string[] = []) => imgserveCli(args, {}, { prefix, limitMs: 20_000 });

/** One line on stderr that starts with "imgserve: ", names every `mentions`, and is no stack trace. */
function assertOneLine(exit: CliExit, code: number, mentions: string[]): string {
  const text = exit.stderr.trim();
  assertEquals(exit.code, code, text);
  assert(!text.includes("\n"), `more than one line:\n${text}`);
  assert(text.startsWith("imgserve: "), text);
  for (const word of mentions) assert(text.includes(word), `"${word}" missing from: ${text}`);
  return text;
}

/** Runs the cases a few at a time: each is a process of its own. */
async function inBatches<T>(items: T[], size: number, each: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(each));
}

const BASE = ["run", "--host", "127.0.0.1", "--workers", "1"];

Deno.test("usage errors: one line, exit 2, before anything starts", async () => {
  const cases: [string[], string[]][] = [
    [["--workers", "0"], ["--workers", '"0"']],
    [["--max-queue", "-5"], ["--max-queue", '"-5"']],
    [["--lease-ms", "soon"], ["--lease-ms", '"soon"']],
    [["--port", "70000"], ["--port", "70000"]],
    [["--host", "999.1.1.1"], ["--host", "999.1.1.1"]],
    [["--callback-secret", "hunter2"], ["--callback-secret", "whsec_"]],
    [["--colour", "red"], ["--colour"]],
  ];
  await inBatches(cases, 4, async ([flags, mentions]) => {
    assertOneLine(await imgserve([...BASE, "--kv", ":memory:", ...flags]), 2, mentions);
  });
});

Deno.test("runtime misconfigurations: `run` exits 1 with one line naming flag and value, never hangs", async () => {
  await using dir = await tempDir();
  const d = dir.path;
  await Deno.writeTextFile(`${d}/file.txt`, "not a folder, not a certificate");
  await Deno.writeTextFile(`${d}/broken.pem`, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
  await Deno.writeTextFile(`${d}/not.kv`, "not a database either, and long enough to have a header".repeat(4));
  await using busy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const busyPort = String((busy.addr as Deno.NetAddr).port);
  const memory = ["--kv", ":memory:"];
  const cases: [string[], string[]][] = [
    [[...memory, "--file-root", `${d}/missing`], ["--file-root", `${d}/missing`, "no such folder"]],
    [[...memory, "--file-root", `${d}/file.txt`], ["--file-root", `${d}/file.txt`, "not a folder"]],
    [[...memory, "--font-dir", `${d}/fonts`], ["--font-dir", `${d}/fonts`]],
    [[...memory, "--ca-file", `${d}/missing.pem`], ["--ca-file", `${d}/missing.pem`, "cannot be read"]],
    [[...memory, "--ca-file", `${d}/file.txt`], ["--ca-file", `${d}/file.txt`, "no PEM certificate"]],
    [[...memory, "--ca-file", `${d}/broken.pem`], ["--ca-file", `${d}/broken.pem`, "does not parse"]],
    [[...memory, "--port", busyPort], ["--port", busyPort, "already in use"]],
    // Cannot be created: its parent is a file. Cannot be written: /proc refuses files even to root.
    [["--data-dir", `${d}/file.txt/jobs`], ["--data-dir", `${d}/file.txt/jobs`]],
    [["--data-dir", "/proc/self"], ["--data-dir", "/proc/self", "written"]],
    [["--kv", `${d}/not.kv`], ["--kv", `${d}/not.kv`, "will not open"]],
  ];
  await inBatches(cases, 3, async ([flags, mentions]) => {
    const exit = await imgserve([...BASE, "--port", String(freePort()), ...flags]);
    assertOneLine(exit, 1, mentions);
    assertEquals(exit.stdout, "", "nothing was started, so nothing was logged");
  });
});

Deno.test("a port that needs privileges: exit 1 with one line", {
  // Only where low ports need privileges, and a root test can drop the one capability that grants them.
  ignore: Number(Deno.readTextFileSync("/proc/sys/net/ipv4/ip_unprivileged_port_start")) < 2 ||
    !(() => {
      try {
        return Deno.statSync("/usr/bin/setpriv").isFile;
      } catch {
        return false;
      }
    })(),
}, async () => {
  const drop = ["setpriv", "--inh-caps=-net_bind_service", "--bounding-set=-net_bind_service"];
  const exit = await imgserve([...BASE, "--kv", ":memory:", "--port", "1"], Deno.uid() === 0 ? drop : []);
  assertOneLine(exit, 1, ["--port 1", "privileges"]);
});

Deno.test("`start` reports the line `run` would, at once, and never claims a server that is not listening", async () => {
  await using dir = await tempDir();
  const d = dir.path;
  const files = ["--pid-file", `${d}/imgserve.pid`, "--log-file", `${d}/imgserve.log`];
  // Another program holds the port and answers /healthz with 200 for every path.
  await using other = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, () => new Response("ok"));
  const cases = [
    ["--kv", ":memory:", "--port", String(other.addr.port)],
    ["--kv", ":memory:", "--port", String(freePort()), "--file-root", `${d}/missing`],
    ["--data-dir", "/proc/self", "--port", String(freePort())],
  ];
  try {
    for (const flags of cases) {
      const run = await imgserve([...BASE, ...flags]);
      const line = assertOneLine(run, 1, []);
      const start = await imgserve(["start", ...BASE.slice(1), ...flags, ...files]);
      assertEquals([start.code, (start.stdout + start.stderr).trim()], [1, line]);
      // It did not wait out the 30 s start timeout: it saw the child exit.
      assert(start.ms < 20_000, `start took ${start.ms} ms`);
      const status = await imgserve(["status", ...files]);
      assertEquals([status.code, (status.stdout + status.stderr).trim()], [3, "imgserve is not running"]);
    }
  } finally {
    await imgserve(["stop", ...files]);
  }
});
