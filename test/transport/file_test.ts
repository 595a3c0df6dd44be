import { assertEquals, assertThrows } from "../helpers/assert.ts";
import { ImgserveError } from "../../protocol/error_codes.ts";
import { fileTransport } from "../../src/transport/file.ts";
import { readLocalSource, writeFileAtomic } from "../../workers/local_io.ts";
import { openGuard } from "../../src/transport/mod.ts";
import { FileRoots } from "../../src/security/files.ts";
import { tempDir } from "../helpers/server.ts";

Deno.test("writeFileAtomic replaces the file whole, creates missing folders and leaves no temporary file", async () => {
  await using dir = await tempDir();
  const real = await Deno.realPath(dir.path);
  writeFileAtomic(`${real}/a/b/out.png`, new Uint8Array([1, 2, 3]));
  writeFileAtomic(`${real}/a/b/out.png`, new Uint8Array([4, 5]));
  assertEquals([...await Deno.readFile(`${real}/a/b/out.png`)], [4, 5]);
  assertEquals([...Deno.readDirSync(`${real}/a/b`)].map((e) => e.name), ["out.png"]);
});

Deno.test("writeFileAtomic refuses a folder that is no longer the real one it was checked as", async () => {
  await using dir = await tempDir();
  const real = await Deno.realPath(dir.path);
  await Deno.mkdir(`${real}/elsewhere`);
  await Deno.symlink(`${real}/elsewhere`, `${real}/swapped`);
  const err = assertThrows(() => writeFileAtomic(`${real}/swapped/out.png`, new Uint8Array([1])), ImgserveError);
  assertEquals(err.code, 301);
  assertEquals([...Deno.readDirSync(`${real}/elsewhere`)], []);
});

Deno.test("localSource checks the file once; readLocalSource reads that file into the given buffer", async () => {
  await using dir = await tempDir();
  const real = await Deno.realPath(dir.path);
  const transport = fileTransport({ roots: await FileRoots.resolve([real]) });
  const options = { timeoutMs: 1000, caCerts: [], guard: openGuard, maxBytes: 8 };
  await Deno.writeFile(`${real}/a.png`, new Uint8Array([1, 2, 3, 4, 5]));
  const source = transport.localSource!(new URL(`file://${real}/a.png`), options);
  assertEquals(source.size, 5);
  const buffer = new Uint8Array(16).fill(9);
  const bytes = readLocalSource(source, buffer);
  assertEquals([...bytes], [1, 2, 3, 4, 5]);
  assertEquals(bytes.buffer, buffer.buffer);

  // Grown since the check: read as far as it was then.
  await Deno.writeFile(`${real}/a.png`, new Uint8Array([6]), { append: true });
  assertEquals([...readLocalSource(source, buffer)], [1, 2, 3, 4, 5]);

  // Another file put in its place (as an atomic update or a swapped symlink would): refused, retryable.
  await Deno.writeFile(`${real}/b.png`, new Uint8Array([7, 7]));
  await Deno.rename(`${real}/b.png`, `${real}/a.png`);
  const changed = assertThrows(() => readLocalSource(source, buffer), ImgserveError);
  assertEquals([changed.code, changed.transient], [209, true]);
  await Deno.remove(`${real}/a.png`);
  assertEquals(assertThrows(() => readLocalSource(source, buffer), ImgserveError).code, 202);

  // The same refusals as a read.
  const check = (url: string) => assertThrows(() => transport.localSource!(new URL(url), options), ImgserveError).code;
  await Deno.writeFile(`${real}/big.png`, new Uint8Array(9));
  assertEquals(check(`file://${real}/big.png`), 203);
  assertEquals(check(`file://${real}/none.png`), 202);
  assertEquals(check(`file://${real}`), 210);
  assertEquals(check(`file://${real}/../outside.png`), 403);
});

Deno.test("a placeholder keeps the earlier file as a second link; settling deletes it or puts it back; cleanUp takes only the job's own temporary files", async () => {
  await using dir = await tempDir();
  const real = await Deno.realPath(dir.path);
  const transport = fileTransport({ roots: await FileRoots.resolve([real]) });
  const options = { timeoutMs: 1000, caCerts: [], guard: openGuard, contentType: "image/png" };
  const names = () => [...Deno.readDirSync(real)].map((e) => e.name).sort();
  for (const [job, outcome] of [["job-1", "failed"], ["job-2", "done"]] as const) {
    const url = new URL(`file://${real}/${job}.png`);
    await Deno.writeFile(`${real}/${job}.png`, new Uint8Array([1, 2, 3]));
    const before = await Deno.stat(`${real}/${job}.png`);
    const wrote = await transport.write(url, new Uint8Array([9]), {
      ...options,
      job: { id: job, stage: "placeholder" },
    });
    assertEquals(wrote, { kept: true });
    assertEquals([...await Deno.readFile(`${real}/${job}.png`)], [9]);
    assertEquals((await Deno.stat(`${real}/.imgserve-${job}.kept`)).ino, before.ino);
    await transport.settle!(url, job, outcome, options);
    assertEquals([...await Deno.readFile(`${real}/${job}.png`)], outcome === "failed" ? [1, 2, 3] : [9]);
  }
  assertEquals(names(), ["job-1.png", "job-2.png"]);
  // Nothing there before: nothing kept.
  const fresh = await transport.write(new URL(`file://${real}/new.png`), new Uint8Array([7]), {
    ...options,
    job: { id: "job-3", stage: "placeholder" },
  });
  assertEquals(fresh, { kept: false });

  const ours = [".imgserve-job-4.placeholder.tmp", ".imgserve-job-4.result.tmp"];
  const others = [".imgserve-job-5.result.tmp", ".new.png.tmp"];
  for (const name of [...ours, ...others]) await Deno.writeFile(`${real}/${name}`, new Uint8Array([1]));
  await transport.cleanUp!(new URL(`file://${real}/new.png`), "job-4", options);
  assertEquals(names(), [...others, "job-1.png", "job-2.png", "new.png"].sort());
});
