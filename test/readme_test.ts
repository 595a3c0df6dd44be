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
import { FLAGS } from "../src/flags/mod.ts";
import { Errors } from "../protocol/error_codes.ts";

const ROOT = new URL("..", import.meta.url).pathname;

/** The first ```sh block after the heading `## <title>`. */
function shellBlock(readme: string, title: string): string {
  const section = readme.split(`\n## ${title}\n`)[1];
  assert(section !== undefined, `the README has no "## ${title}" section`);
  const block = /```sh\n([\s\S]*?)```/.exec(section.split("\n## ")[0]);
  assert(block, `"## ${title}" has no sh block`);
  return block[1];
}

/** A job with a small output made at once and a large AVIF one that takes seconds: the job runs while one is done. */
const MULTI_OUTPUT_JOB = (dir: string) =>
  JSON.stringify({
    operationType: "resize",
    srcURL: `file://${dir}/hello.png`,
    outputs: [
      { dstURL: `file://${dir}/multi/small.jpg`, args: { width: 20, height: 12 } },
      { dstURL: `file://${dir}/multi/large.avif`, args: { width: 2400, height: 1440, format: "avif" } },
    ],
  });

/** The README's `post` and `wait_job` on a refused job and a job with several outputs. */
function moreJobs(dir: string): string {
  const missing = { operationType: "resize", srcURL: `file://${dir}/missing.png`, dstURL: `file://${dir}/x.png` };
  return [
    `if id=$(post <<'EOF'\n${JSON.stringify({ ...missing, args: { width: 10 } })}\nEOF\n); then`,
    `  echo "a missing source was not refused: $id" >&2; exit 1`,
    "fi",
    `id=$(post <<'EOF'\n${MULTI_OUTPUT_JOB(dir)}\nEOF\n) && wait_job $id`,
  ].join("\n");
}

/** A folder of links to the few tools the README's functions use, without jq, for their plain fallback. */
async function toolsWithoutJq(dir: string): Promise<string> {
  await Deno.mkdir(dir);
  for (const tool of ["sh", "curl", "sed", "tail", "seq", "sleep", "cat"]) {
    const path = new TextDecoder().decode(
      (await new Deno.Command("sh", { args: ["-c", `command -v ${tool}`], stdout: "piped" }).output()).stdout,
    ).trim();
    await Deno.symlink(path, `${dir}/${tool}`);
  }
  return dir;
}

Deno.test("the README's Try it runs as written after its set-up command", async () => {
  const readme = await Deno.readTextFile(`${ROOT}/README.md`);
  const setUp = shellBlock(readme, "Set up").split("\n").filter((line) => line.includes("task start"));
  assertEquals(setUp.length, 1, "one set-up line starts the server");
  await using dir = await tempDir();
  const port = freePort();
  const local = (text: string) =>
    text.replaceAll("127.0.0.1:8602", `127.0.0.1:${port}`).replaceAll("/tmp/imgserve-try", `${dir.path}/try`);
  const tryIt = local(shellBlock(readme, "Try it"));
  await Deno.writeTextFile(`${dir.path}/try.sh`, [local(setUp[0]), tryIt].join("\n"));
  // `deno` and `npx -y deno@X` run the Deno running this test, which must be that version.
  await Deno.mkdir(`${dir.path}/bin`);
  await Deno.symlink(Deno.execPath(), `${dir.path}/bin/deno`);
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
  const sh = async (path: string, extra: Record<string, string> = {}) => {
    const { code, stdout, stderr } = await new Deno.Command("sh", {
      args: ["-eu", path],
      cwd: ROOT,
      env: { ...env, ...extra },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(90_000),
    }).output();
    const out = new TextDecoder().decode(stdout);
    const err = new TextDecoder().decode(stderr);
    return { code, out, err, shown: `${out}\n${err}`, last: () => JSON.parse(out.trim().split("\n").pop()!) };
  };
  try {
    const run = await sh(`${dir.path}/try.sh`);
    assertEquals(run.code, 0, run.shown);
    const last = run.last();
    assertEquals([last.state, last.width, last.height], ["done", 200, 120], run.shown);
    assertEquals(last.dstURL, `file://${dir.path}/try/thumbs/200x120-hello.jpg`);
    const png = await decode(await Deno.readFile(`${dir.path}/try/hello.png`));
    const thumb = await decode(await Deno.readFile(`${dir.path}/try/thumbs/200x120-hello.jpg`));
    assertEquals([png.width, png.height, thumb.width, thumb.height], [400, 240, 200, 120]);
    // The SVG's blue background came through both jobs (not the grey placeholder).
    const blue: Rgba = [0x2b, 0x6c, 0xb0, 255];
    assert(near(pixel(png, 5, 5), blue, 2) && near(pixel(thumb, 5, 5), blue, 12), String(pixel(thumb, 5, 5)));

    // The same functions, with jq and with the plain fallback: a refused POST ends at once with its reason, and a job
    // with several outputs is waited for until the job itself is done, not its first output.
    const functions = tryIt.split("\nmkdir -p")[0];
    await Deno.writeTextFile(`${dir.path}/more.sh`, `${functions}\n${moreJobs(`${dir.path}/try`)}\n`);
    const plainPath = await toolsWithoutJq(`${dir.path}/plain-bin`);
    for (const extra of [{}, { PATH: plainPath }] as Record<string, string>[]) {
      await Deno.remove(`${dir.path}/try/multi`, { recursive: true }).catch(() => {});
      const more = await sh(`${dir.path}/more.sh`, extra);
      assertEquals(more.code, 0, more.shown);
      assert(more.err.includes('refused (404): {"msg":"request invalid","code":202'), more.shown);
      const job = more.last();
      assertEquals(job.state, "done", more.shown);
      assertEquals(job.outputs.map((o: { state: string }) => o.state), ["done", "done"], more.shown);
    }
  } finally {
    await Deno.writeTextFile(`${dir.path}/stop.sh`, "deno task stop\ndeno task status || true\n");
    const stopped = await sh(`${dir.path}/stop.sh`);
    assert(stopped.out.includes("stopped") && stopped.err.includes("not running"), stopped.shown);
  }
});

Deno.test("the README's first steps: install deno once, start, Try it at once, then the tests", async () => {
  const readme = await Deno.readTextFile(`${ROOT}/README.md`);
  const headings = [...readme.matchAll(/^## (.+)$/gm)].map((m) => m[1]);
  assertEquals(headings.slice(0, 3), ["Set up", "Try it", "Run the tests"]);
  const setUp = shellBlock(readme, "Set up");
  assert(/^npm install -g deno@\d+\.\d+\.\d+ /m.test(setUp), "deno installed once");
  assert(/^deno task start .*first start downloads .*\d+ s/m.test(setUp), "the start line says how long it takes");
  assert(!setUp.includes("task test"), "the tests come after Try it");
  assert(/^deno task test/m.test(shellBlock(readme, "Run the tests")));
  const tasks = JSON.parse(await Deno.readTextFile(`${ROOT}/deno.json`)).tasks;
  for (const task of ["start", "stop", "status", "restart", "run", "test"]) {
    assert(tasks[task], `deno task ${task}`);
    if (task !== "test") assert(readme.includes(`deno task ${task}`), `the README names deno task ${task}`);
  }
});

Deno.test("the README has a row for every flag and every error code, and links the measurements it moved out", async () => {
  const readme = await Deno.readTextFile(`${ROOT}/README.md`);
  const rows = readme.split("\n").filter((line) => line.startsWith("| "));
  for (const flag of FLAGS) {
    assert(rows.some((row) => row.includes(`--${flag.name}`)), `the flag table has no row for --${flag.name}`);
  }
  const codes = rows.map((row) => /^\| (\d{3})(?:-(\d{3}))? /.exec(row)).filter((m) => m !== null);
  for (const { code } of Object.values(Errors)) {
    const listed = codes.some((m) => Number(m[1]) <= code && code <= Number(m[2] ?? m[1]));
    assert(listed, `the error table has no row for code ${code}`);
  }
  for (const [, path] of readme.matchAll(/\]\((docs\/[^)#]+)/g)) {
    assert((await Deno.stat(`${ROOT}/${path}`)).isFile, `${path} is linked but missing`);
  }
});
