/**
 * Runs the README's own "Set up" start command and its "Try it" block, so
 * the test fails when the README drifts from what works. Only the port,
 * the example's folder and the server's own files are moved, so that the
 * test disturbs nothing else on the machine.
 */
import { assert, assertEquals } from "./helpers/assert.ts";
import { decode, near, pixel, type Rgba } from "./helpers/images.ts";
import { freePort } from "./helpers/ports.ts";
import { tempDir } from "./helpers/server.ts";

const ROOT = new URL("..", import.meta.url).pathname;

/** The first ```sh block after the heading `## <title>`. */
function shellBlock(readme: string, title: string): string {
  const section = readme.split(`\n## ${title}\n`)[1];
  assert(section !== undefined, `the README has no "## ${title}" section`);
  const block = /```sh\n([\s\S]*?)```/.exec(section.split("\n## ")[0]);
  assert(block, `"## ${title}" has no sh block`);
  return block[1];
}

Deno.test("the README's Try it runs as written after its set-up command", async () => {
  const readme = await Deno.readTextFile(`${ROOT}/README.md`);
  const setUp = shellBlock(readme, "Set up").split("\n").filter((line) => line.includes("task start"));
  assertEquals(setUp.length, 1, "one set-up line starts the server");
  await using dir = await tempDir();
  const port = freePort();
  const script = [setUp[0], shellBlock(readme, "Try it")].join("\n")
    .replaceAll("127.0.0.1:8602", `127.0.0.1:${port}`)
    .replaceAll("/tmp/imgserve-try", `${dir.path}/try`);
  await Deno.writeTextFile(`${dir.path}/try.sh`, script);
  // `npx -y deno@X` runs the Deno running this test, which must be that version.
  await Deno.mkdir(`${dir.path}/bin`);
  await Deno.writeTextFile(
    `${dir.path}/bin/npx`,
    `#!/bin/sh\n[ "$1" = -y ] && shift\n[ "$1" = deno@${Deno.version.deno} ] || { echo "npx $1: not deno@${Deno.version.deno}" >&2; exit 1; }\nshift\nexec "${Deno.execPath()}" "$@"\n`,
  );
  await Deno.chmod(`${dir.path}/bin/npx`, 0o755);
  const env = {
    PATH: `${dir.path}/bin:${Deno.env.get("PATH")}`,
    IMGSERVE_HOST: "127.0.0.1",
    IMGSERVE_PORT: String(port),
    IMGSERVE_WORKERS: "1",
    IMGSERVE_PID_FILE: `${dir.path}/imgserve.pid`,
    IMGSERVE_LOG_FILE: `${dir.path}/imgserve.log`,
    IMGSERVE_DATA_DIR: `${dir.path}/data`,
  };
  const sh = (path: string) =>
    new Deno.Command("sh", {
      args: ["-eu", path],
      cwd: ROOT,
      env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(60_000),
    }).output();
  try {
    const { code, stdout, stderr } = await sh(`${dir.path}/try.sh`);
    const out = new TextDecoder().decode(stdout);
    const shown = `${out}\n${new TextDecoder().decode(stderr)}`;
    assertEquals(code, 0, shown);
    const last = JSON.parse(out.trim().split("\n").pop()!);
    assertEquals([last.state, last.width, last.height], ["done", 200, 120], shown);
    assertEquals(last.dstURL, `file://${dir.path}/try/thumbs/200x120-hello.jpg`);
    const png = await decode(await Deno.readFile(`${dir.path}/try/hello.png`));
    const thumb = await decode(await Deno.readFile(`${dir.path}/try/thumbs/200x120-hello.jpg`));
    assertEquals([png.width, png.height, thumb.width, thumb.height], [400, 240, 200, 120]);
    // The SVG's blue background came through both jobs (not the grey placeholder).
    const blue: Rgba = [0x2b, 0x6c, 0xb0, 255];
    assert(near(pixel(png, 5, 5), blue, 2) && near(pixel(thumb, 5, 5), blue, 12), String(pixel(thumb, 5, 5)));
  } finally {
    await Deno.writeTextFile(`${dir.path}/stop.sh`, `"${Deno.execPath()}" run -A src/main.ts stop\n`);
    await sh(`${dir.path}/stop.sh`);
  }
});
