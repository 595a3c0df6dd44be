/**
 * `deno task compile` builds the single executable, and the executable
 * carries everything the server loads at run time: the worker modules, every
 * WebAssembly file a codec reads, the bundled fonts.
 *
 * `deno compile` normally downloads its runtime (denort); DENORT_BIN pointed
 * at the deno binary makes it use that instead, so the Compile step runs
 * without a network. The executable it writes then runs as plain deno, so
 * what it embeds is read from the file itself (the virtual file system's
 * table, which `deno compile` writes as JSON), and what the server loads is
 * recorded by running it from source with Deno's permission audit log.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { spawnServer } from "../helpers/process.ts";
import { postJob, rasterizeJob, waitFinished } from "../helpers/jobs.ts";
import { FrameReader, writeFrame } from "../../workers/frames.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const EXECUTABLE = `${ROOT}imgserve`;
const NPM_DIR = "/.deno_compile_node_modules/localhost/";

/** A file's name as both lists write it: `workers/codec.ts`, or `<package>@<version>/<path>` for npm files. */
function key(path: string): string | undefined {
  if (path.startsWith("file://")) path = decodeURIComponent(new URL(path).pathname);
  if (path.startsWith(NPM_DIR)) path = path.slice(NPM_DIR.length);
  else if (path.startsWith(ROOT)) return path.slice(ROOT.length);
  else if (path.startsWith("/") && !path.includes("/npm/")) return path.slice(1);
  const npm = /^(?:.*\/npm\/[^/]+\/)?((?:@[^/]+\/)?[^/@]+)\/(\d[^/]*)\/(.+)$/.exec(path);
  return npm ? `${npm[1]}@${npm[2]}/${npm[3]}` : undefined;
}

type VfsEntry = { Dir: { n: string; e: VfsEntry[] } } | { File: { n: string } } | { Symlink: { n: string } };

/** Every file in the executable's virtual file system. */
function embeddedFiles(binary: Uint8Array): Set<string> {
  const marker = new TextEncoder().encode('[{"Dir":{"n":');
  let at = -1;
  for (let i = binary.indexOf(marker[0]); i >= 0 && at < 0; i = binary.indexOf(marker[0], i + 1)) {
    if (marker.every((b, j) => binary[i + j] === b)) at = i;
  }
  assert(at > 8, "the executable holds a virtual file system table");
  const length = Number(new DataView(binary.buffer, binary.byteOffset + at - 8, 8).getBigUint64(0, true));
  const table: VfsEntry[] = JSON.parse(new TextDecoder().decode(binary.subarray(at, at + length)));
  const files = new Set<string>();
  const walk = (entries: VfsEntry[], dir: string) => {
    for (const entry of entries) {
      if ("Dir" in entry) walk(entry.Dir.e, `${dir}/${entry.Dir.n}`);
      else if ("File" in entry) files.add(key(`${dir}/${entry.File.n}`)!);
    }
  };
  walk(table, "");
  return files;
}

/** The files a process read, from its audit lines (several processes may interleave them). */
function filesRead(audit: string): Set<string> {
  const files = new Set<string>();
  for (const match of audit.matchAll(/"permission":"read","value":"([^"]+)"/g)) {
    const name = key(match[1]);
    if (name && /\.(ts|wasm|ttf)$/.test(name)) files.add(name);
  }
  return files;
}

/** What the render process loads: run from source as the renderer runs it, told to start, then closed. */
async function renderProcessReads(): Promise<Set<string>> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--cached-only",
      "--allow-read",
      "--config",
      `${ROOT}deno.json`,
      "workers/render_process.ts",
    ],
    cwd: ROOT,
    env: { DENO_AUDIT_PERMISSIONS: "/dev/stderr" },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const audit = new Response(child.stderr).text();
  const writer = child.stdin.getWriter();
  await writeFrame(writer, { type: "init", fontDirs: [] });
  const frames = new FrameReader<{ type: string }>(child.stdout, 1 << 20);
  const ready = await frames.next();
  await writer.close();
  while (await frames.next()); // to its end: the process exits once stdin closes
  await child.status;
  assertEquals(ready?.head.type, "ready", "the render process started");
  // The fonts are imported as bytes, which no permission check sees: take them from its module graph.
  const info = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "workers/render_process.ts"],
    cwd: ROOT,
    stdout: "piped",
  }).output();
  const graph = JSON.parse(new TextDecoder().decode(info.stdout)) as { modules: { specifier: string }[] };
  const reads = filesRead(await audit);
  for (const { specifier } of graph.modules) {
    if (specifier.startsWith("npm:/") && specifier.endsWith(".ttf")) reads.add(specifier.slice("npm:/".length));
  }
  reads.add("workers/render_process.ts");
  return reads;
}

/** What a server reads from start through one SVG rasterized to PNG (the pool compiles every codec at start). */
async function serverReads(): Promise<Set<string>> {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      `${dir}/a.svg`,
      '<svg xmlns="http://www.w3.org/2000/svg" width="80" height="30"><text y="20">Hi</text></svg>',
    );
    const server = await spawnServer(
      ["--workers", "1", "--file-root", dir, "--data-dir", dir, "--system-font-dir", ""],
      { env: { DENO_AUDIT_PERMISSIONS: "/dev/stderr" } },
    );
    let output: string;
    try {
      const { json } = await postJob(server.base, rasterizeJob(`file://${dir}/a.svg`, `file://${dir}/a.png`));
      assertEquals((await waitFinished(server.base, json.id as string)).state, "done");
    } finally {
      await server.stop("SIGTERM");
      output = server.output();
    }
    return filesRead(output);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("deno task compile builds, and the executable embeds every worker module, WebAssembly file and font the server loads", async () => {
  const compile = await new Deno.Command(Deno.execPath(), {
    args: ["task", "compile"],
    cwd: ROOT,
    env: { DENORT_BIN: Deno.execPath(), NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const log = new TextDecoder().decode(compile.stdout) + new TextDecoder().decode(compile.stderr);
  assert(compile.success, `deno task compile failed:\n${log.slice(-3000)}`);
  assert(/Compile .*src\/main\.ts to imgserve/.test(log), `the Compile step ran:\n${log.slice(0, 2000)}`);

  const embedded = embeddedFiles(await Deno.readFile(EXECUTABLE));
  const loaded = new Set([...await serverReads(), ...await renderProcessReads()]);
  const kinds = (pattern: RegExp) => [...loaded].filter((name) => pattern.test(name)).sort();
  const wasm = kinds(/\.wasm$/);
  const fonts = kinds(/\.ttf$/);
  const workerModules = kinds(/^workers\/.*\.ts$/);
  // The lists the server was seen to load: a codec or worker module dropped from them would mean the check saw less.
  // 11 since the workers resample in strips without the resize codec (ops/lanczos.ts) and decode GIFs without libnsgif.
  assert(wasm.length >= 11, `every codec's WebAssembly was read (${wasm.join(", ")})`);
  assertEquals(fonts.length, 3, `the three bundled fonts (${fonts.join(", ")})`);
  assert(workerModules.includes("workers/codec.ts") && workerModules.includes("workers/render_process.ts"));

  const missing = [...loaded].filter((name) => /\.(wasm|ttf)$|^workers\//.test(name) && !embedded.has(name));
  assertEquals(missing, [], "every file loaded at run time is inside the executable");
  // The S3 client is imported on the first s3:// transfer, which no run here makes: it must be inside all the same.
  assert([...embedded].some((name) => name.startsWith("@aws-sdk/client-s3@")), "the S3 client is embedded");
  // So is libheif, imported and compiled by a worker on its first HEIC.
  for (const file of ["libheif-wasm/libheif.js", "libheif-wasm/libheif.wasm"]) {
    assert([...embedded].some((name) => /^libheif-js@/.test(name) && name.endsWith(file)), `${file} is embedded`);
  }
  const unused = [...embedded].filter((name) => name.endsWith(".wasm") && !loaded.has(name)).sort();
  console.log(
    `embedded and loaded: ${wasm.length} WebAssembly files, ${fonts.length} fonts, ${workerModules.length} worker modules; ` +
      `embedded, never loaded (packages are embedded whole): ${unused.join(", ")}`,
  );
});
