/**
 * Sources that cost far more than their size: PNG metadata that inflates to
 * a gibibyte, and JPEGs that repeat one scan thousands of times. Each runs
 * against a server process of its own, so its memory is measured apart from
 * the other tests.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { assertImage, GREEN, png, thirds } from "../helpers/images.ts";
import { pngBomb, repeatedScans } from "../helpers/hostile.ts";
import { postJob, rasterizeJob, resizeJob, waitFinished } from "../helpers/jobs.ts";
import { spawnServer } from "../helpers/process.ts";
import { OPEN_FLAGS, tempDir } from "../helpers/server.ts";
import { magickPixels, psnr, tool } from "../helpers/tools.ts";
import { decode } from "../helpers/images.ts";

const PHOTO = "/usr/share/backgrounds/mate/nature/Garden.jpg";
const WIDE_GAMUT = "/usr/share/color/icc/colord/WideGamutRGB.icc";

const serverFlags = ["--workers", "2", "--kv", ":memory:", ...OPEN_FLAGS];

/** The highest RSS (VmHWM) the process and each of its children (render processes) reached, summed, in MiB. */
async function peakMiB(pid: number): Promise<number> {
  const hwm = async (p: number) =>
    Number(/^VmHWM:\s+(\d+) kB/m.exec(await Deno.readTextFile(`/proc/${p}/status`))?.[1] ?? 0) / 1024;
  let sum = await hwm(pid);
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = await Deno.readTextFile(`/proc/${entry.name}/stat`);
      if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === pid) sum += await hwm(Number(entry.name));
    } catch {
      // gone meanwhile
    }
  }
  return sum;
}

/** Asks /healthz every 100 ms until stopped; then tells the slowest answer's time, or the first failure. */
function watchHealth(base: string): { stop(): Promise<{ slowestMs: number; failure?: string }> } {
  let running = true;
  const watching = (async () => {
    let slowestMs = 0;
    while (running) {
      const start = performance.now();
      try {
        const response = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(5_000) });
        await response.body?.cancel();
        if (response.status !== 200) return { slowestMs, failure: `/healthz answered ${response.status}` };
      } catch (err) {
        return { slowestMs, failure: `/healthz: ${(err as Error).message}` };
      }
      slowestMs = Math.max(slowestMs, performance.now() - start);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return { slowestMs };
  })();
  return {
    stop() {
      running = false;
      return watching;
    },
  };
}

Deno.test("PNG metadata inflating to 1 GiB: iCCP fails 514 at once, text chunks are skipped; memory stays flat", async () => {
  await using dir = await tempDir();
  const base = await png(thirds(30, 10));
  const files = { iccp1: "iCCP", iccp2: "iCCP", ztxt: "zTXt", itxt: "iTXt" } as const;
  for (const [name, type] of Object.entries(files)) {
    await Deno.writeFile(`${dir.path}/${name}.png`, pngBomb(base, type));
  }
  await using imgserve = await spawnServer(serverFlags);
  const peakBefore = await peakMiB(imgserve.child.pid);
  const health = watchHealth(imgserve.base);
  const start = performance.now();
  // All four at once: both workers get a bomb.
  const jobs = await Promise.all(
    Object.keys(files).map(async (name) => {
      const reply = await postJob(
        imgserve.base,
        resizeJob(`file://${dir.path}/${name}.png`, `file://${dir.path}/out-${name}.png`, { width: 30 }),
      );
      assertEquals(reply.status, 202, JSON.stringify(reply.json));
      return [name, await waitFinished(imgserve.base, reply.json.id as string, 20_000)] as const;
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  const { slowestMs, failure } = await health.stop();
  const grown = await peakMiB(imgserve.child.pid) - peakBefore;
  const summary = `${seconds.toFixed(1)} s, peak RSS +${grown.toFixed(0)} MiB, /healthz at most ${
    slowestMs.toFixed(0)
  } ms: ${JSON.stringify(jobs)}`;
  assertEquals(failure, undefined, summary);
  for (const [name, job] of jobs) {
    if (name.startsWith("iccp")) {
      assertEquals([job.state, job.code], ["failed", 514], summary);
      assert(/ICC profile inflates to more than 4 MiB/.test(String(job.error)), summary);
    } else {
      // The decoder never sees text the job does not use: the image is made as if it had none.
      assertEquals(job.state, "done", summary);
      await assertImage(await Deno.readFile(`${dir.path}/out-${name}.png`), {
        width: 30,
        height: 10,
        centre: GREEN,
        tolerance: 0,
      });
    }
  }
  // Before: 10-15 s and +2 GiB for each iCCP bomb; the text bombs failed 601.
  assert(seconds < 8, summary);
  assert(grown < 150, summary);
  assert(slowestMs < 2_000, summary);
});

Deno.test("a PNG with a real ICC profile and a progressive JPEG are still made in the right colours", async () => {
  await using dir = await tempDir();
  const d = dir.path;
  await tool("convert", [PHOTO, "-resize", "160x100!", "-profile", WIDE_GAMUT, `${d}/wide.png`]);
  await tool("convert", [PHOTO, "-resize", "640x400!", "-interlace", "JPEG", "-quality", "92", `${d}/progressive.jpg`]);
  await using imgserve = await spawnServer(serverFlags);
  const cases = [
    [
      "wide.png",
      { width: 160 },
      await magickPixels(`${d}/wide.png`, "-profile", "/usr/share/color/icc/colord/sRGB.icc"),
    ],
    ["progressive.jpg", { width: 160, height: 100 }, await magickPixels(`${d}/progressive.jpg`, "-resize", "160x100!")],
  ] as const;
  for (const [name, args, reference] of cases) {
    const reply = await postJob(
      imgserve.base,
      resizeJob(`file://${d}/${name}`, `file://${d}/out-${name}.png`, { ...args, format: "png" }),
    );
    assertEquals(reply.status, 202, JSON.stringify(reply.json));
    const job = await waitFinished(imgserve.base, reply.json.id as string, 20_000);
    assertEquals(job.state, "done", JSON.stringify(job));
    const result = await decode(await Deno.readFile(`${d}/out-${name}.png`));
    assertEquals([result.width, result.height], [160, 100]);
    const db = psnr(result, reference);
    assert(db > 30, `${name}: ${db.toFixed(1)} dB from ImageMagick's`);
  }
});

Deno.test("a JPEG repeating one scan 4000 times is refused 515: at validation when the scans come early, else at once in the worker", async () => {
  await using dir = await tempDir();
  const d = dir.path;
  // Flat colour: each AC scan is a run of empty blocks, a few bytes for a pass over every block.
  await tool("convert", ["-size", "1000x1000", "xc:#5080c0", "-interlace", "JPEG", `${d}/small.jpg`]);
  await tool("convert", ["-size", "4000x4000", "xc:#5080c0", "-interlace", "JPEG", `${d}/large.jpg`]);
  const early = repeatedScans(await Deno.readFile(`${d}/small.jpg`), 4000);
  const late = repeatedScans(await Deno.readFile(`${d}/large.jpg`), 4000);
  await Deno.writeFile(`${d}/early.jpg`, early);
  await Deno.writeFile(`${d}/late.jpg`, late);
  assert(early.length < 200_000 && late.length < 500_000, `${early.length} and ${late.length} bytes`);
  await using imgserve = await spawnServer(serverFlags);

  // Its scans are in the first 64 KiB the header read takes: refused before the reply, nothing written.
  const refused = await postJob(
    imgserve.base,
    resizeJob(`file://${d}/early.jpg`, `file://${d}/out-early.png`, { width: 100 }),
  );
  assertEquals([refused.status, refused.json.code], [413, 515], JSON.stringify(refused.json));
  assert(/more than 100 scans/.test(String(refused.json.error)), JSON.stringify(refused.json));
  assertEquals(await Deno.stat(`${d}/out-early.png`).catch(() => undefined), undefined);
  // resvg would decode it too when an SVG embeds it.
  const base64 = btoa(Array.from(early, (b) => String.fromCharCode(b)).join(""));
  await Deno.writeTextFile(
    `${d}/embeds.svg`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100"><image width="100" height="100" href="data:image/jpeg;base64,${base64}"/></svg>`,
  );
  const svg = await postJob(imgserve.base, rasterizeJob(`file://${d}/embeds.svg`, `file://${d}/out-svg.png`));
  assertEquals([svg.status, svg.json.code], [413, 515], JSON.stringify(svg.json));

  // Its scans start past that (a 16-megapixel DC scan comes first): the worker counts them before decoding.
  const start = performance.now();
  const reply = await postJob(
    imgserve.base,
    resizeJob(`file://${d}/late.jpg`, `file://${d}/out-late.png`, { width: 100 }),
  );
  assertEquals(reply.status, 202, JSON.stringify(reply.json));
  const job = await waitFinished(imgserve.base, reply.json.id as string, 60_000);
  const seconds = (performance.now() - start) / 1000;
  assertEquals([job.state, job.code], ["failed", 515], JSON.stringify(job));
  // Before: decoded for minutes (about 20 ms a scan with libjpeg-turbo, then again with mozjpeg).
  assert(seconds < 5, `${seconds.toFixed(1)} s`);
});

Deno.test("a progressive JPEG with up to 100 scans is decoded", async () => {
  await using dir = await tempDir();
  await tool("convert", ["-size", "64x64", "xc:#5080c0", "-interlace", "JPEG", `${dir.path}/base.jpg`]);
  // 10 scans of its own and 90 repeats of the last one: libjpeg warns of the odd progression and goes on,
  // which is damage by default (606), so the limit alone is tried with failOn "none".
  await Deno.writeFile(`${dir.path}/hundred.jpg`, repeatedScans(await Deno.readFile(`${dir.path}/base.jpg`), 90));
  await using imgserve = await spawnServer(serverFlags);
  const reply = await postJob(
    imgserve.base,
    resizeJob(`file://${dir.path}/hundred.jpg`, `file://${dir.path}/out.png`, { width: 32, failOn: "none" }),
  );
  assertEquals(reply.status, 202, JSON.stringify(reply.json));
  assertEquals((await waitFinished(imgserve.base, reply.json.id as string, 20_000)).state, "done");
  await assertImage(await Deno.readFile(`${dir.path}/out.png`), {
    width: 32,
    height: 32,
    centre: [0x50, 0x80, 0xc0, 255],
    tolerance: 4,
  });
});
