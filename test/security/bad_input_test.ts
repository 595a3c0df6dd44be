import { assert, assertEquals } from "../helpers/assert.ts";
import { jpeg, painted, png, thirds } from "../helpers/images.ts";
import { OPEN_FLAGS, tempDir } from "../helpers/server.ts";
import { spawnServer } from "../helpers/process.ts";
import { jobBody, postJob, resizeJob, waitFinished } from "../helpers/jobs.ts";
import { readHeader } from "../../src/image/header.ts";
import { tool } from "../helpers/tools.ts";
import { greyPage, tiffFile, zlibZeros } from "../helpers/hostile.ts";

/** A small deterministic generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s / 0x7fffffff;
  };
}

Deno.test("hundreds of malformed requests and images: clear codes, no stray files, server healthy, memory bounded", async () => {
  await using dir = await tempDir();
  const rand = random(42);
  const goodPng = await png(thirds(120, 80));
  const goodJpeg = await jpeg(painted(120, 80, (x, y) => [x * 2, y * 3, 128, 255]));
  const goodSvg = new TextEncoder().encode(
    `<svg xmlns="http://www.w3.org/2000/svg" width="60" height="40"><circle cx="30" cy="20" r="15" fill="red"/></svg>`,
  );
  // The other formats, made by Debian's tools from the PNG; fewer cases each to keep the test short.
  await Deno.writeFile(`${dir.path}/good.png`, goodPng);
  await tool("cwebp", ["-quiet", "-q", "80", "-alpha_q", "90", `${dir.path}/good.png`, "-o", `${dir.path}/good.webp`]);
  await tool("avifenc", ["-s", "10", `${dir.path}/good.png`, `${dir.path}/good.avif`]);
  await tool("convert", [`${dir.path}/good.png`, `${dir.path}/good.gif`]);
  await tool("convert", [`${dir.path}/good.png`, `BMP3:${dir.path}/good.bmp`]);
  await tool("convert", [`${dir.path}/good.png`, "-colorspace", "CMYK", `${dir.path}/good-cmyk.jpg`]);
  await tool("convert", [
    `${dir.path}/good.png`,
    "-compress",
    "lzw",
    "-define",
    "tiff:rows-per-strip=8",
    `${dir.path}/good.tif`,
  ]);
  // Animations: three frames, the last two smaller and offset (GIF), and that GIF as an animated WebP.
  await tool("convert", [
    ...["-delay", "10", "-loop", "0", `${dir.path}/good.png`, "-dispose", "previous", "-page", "+10+5"],
    ...[`${dir.path}/good.png[60x40+0+0]`, "-page", "+30+20", `${dir.path}/good.png[50x30+20+20]`],
    `${dir.path}/good-anim.gif`,
  ]);
  await tool("gif2webp", ["-quiet", "-lossy", `${dir.path}/good-anim.gif`, "-o", `${dir.path}/good-anim.webp`]);
  const more = await Promise.all(
    ["webp", "avif", "gif", "bmp", "cmyk.jpg", "anim.gif", "anim.webp", "tif"].map(async (ext) =>
      [ext, await Deno.readFile(`${dir.path}/good${/^(cmyk|anim)\./.test(ext) ? `-${ext}` : `.${ext}`}`)] as const
    ),
  );
  const images: [string, Uint8Array][] = [];
  for (const [name, good] of [["png", goodPng], ["jpg", goodJpeg], ["svg", goodSvg], ...more] as const) {
    for (let i = 0; i < (["png", "jpg", "svg", "tif"].includes(name) ? 25 : 6); i++) {
      const cut = good.slice(0, Math.floor(rand() * good.length));
      images.push([`cut${i}.${name}`, cut]);
      const flipped = good.slice();
      for (let k = 0; k < 1 + rand() * 20; k++) flipped[Math.floor(rand() * flipped.length)] ^= 1 << (rand() * 8);
      images.push([`flip${i}.${name}`, flipped]);
    }
  }
  images.push([
    "external.svg",
    new TextEncoder().encode(
      `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="20" height="20"><image xlink:href="file:///etc/passwd" width="20" height="20"/><image href="http://169.254.169.254/x.png" width="20" height="20"/></svg>`,
    ),
  ]);
  images.push([
    "huge-claim.png",
    (() => {
      const b = goodPng.slice(0, 33);
      new DataView(b.buffer).setUint32(16, 100_000);
      new DataView(b.buffer).setUint32(20, 100_000);
      return b;
    })(),
  ]);
  images.push(["ünïcödé name.png", goodPng]);
  // TIFF directories that point anywhere: a loop, a huge claimed size, strips far past the end, a bomb.
  const tiffStrip = new Uint8Array(64);
  const tiffPage = greyPage(8, 8, 64);
  // Animations whose frames claim what they do not have: a frame past the screen or canvas, a frame huge.
  const animGif = more.find(([ext]) => ext === "anim.gif")![1];
  const animWebp = more.find(([ext]) => ext === "anim.webp")![1];
  const lastDescriptor = animGif.findLastIndex((b, i) => b === 0x2c && animGif[i - 1] === 0 && i > 13);
  const pastScreen = animGif.slice();
  pastScreen.set([0xf0, 0x00], lastDescriptor + 1);
  const hugeFrame = animGif.slice();
  hugeFrame.set([0xff, 0xff, 0xff, 0xff], lastDescriptor + 5);
  const anmf = new TextDecoder("latin1").decode(animWebp).lastIndexOf("ANMF");
  const pastCanvas = animWebp.slice();
  pastCanvas.set([0xff, 0x7f], anmf + 8);
  const hugeAnmf = animWebp.slice();
  hugeAnmf.set([0xff, 0xff, 0xff, 0xff, 0xff, 0xff], anmf + 14);
  const midFrame = animGif.slice(0, lastDescriptor + 40);
  images.push(
    ["past-screen.anim.gif", pastScreen],
    ["huge-frame.anim.gif", hugeFrame],
    ["past-canvas.anim.webp", pastCanvas],
    ["huge-anmf.anim.webp", hugeAnmf],
    ["mid-frame.anim.gif", midFrame],
    ["loop.tif", tiffFile(tiffStrip, [tiffPage, tiffPage], -1)],
    ["huge-claim.tif", tiffFile(tiffStrip, [greyPage(100_000, 100_000, 64)])],
    ["past-end.tif", tiffFile(tiffStrip, [tiffPage.map((e) => e.tag === 273 ? { ...e, values: [0xfffffff0] } : e)])],
    ["bomb.tif", tiffFile(zlibZeros(256), [greyPage(64, 64, zlibZeros(256).length, 8)])],
  );
  // Images hidden inside SVGs: each claims more pixels than --max-source-pixels, in a different disguise.
  const claim = (() => {
    const b = goodPng.slice(0, 33);
    new DataView(b.buffer).setUint32(16, 20_000);
    new DataView(b.buffer).setUint32(20, 20_000);
    return b.toBase64();
  })();
  const gifClaim = new Uint8Array([...new TextEncoder().encode("GIF89a"), 0xff, 0xff, 0xff, 0xff, 0, 0, 0]).toBase64();
  const inSvg = (body: string) =>
    new TextEncoder().encode(
      `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="50" height="50">${body}</svg>`,
    );
  const hidden = [
    `<image href="data:image/png;base64,${claim}" width="9" height="9"/>`,
    `<image xlink:href="&#x64;ata:image/png;base64,${claim}" width="9" height="9"/>`,
    `<image href='  DATA:image/png;base64,${claim.replace(/(.{8})/g, "$1 \n")}' width="9" height="9"/>`,
    `<image href="data:text/plain;base64,${claim}"/>`,
    `<image href="data:image/gif;base64,${gifClaim}"/><image href="data:image/png;base64,"/>`,
    `<image href="data:image/png,%89PNG%0D%0A%1A%0A"/>`,
    `<filter id="f"><feImage href="data:image/png;base64,${claim}"/></filter><rect width="5" height="5" filter="url(#f)"/>`,
    `<image href="data:image/svg+xml;base64,${inSvg(`<image href="data:image/png;base64,${claim}"/>`).toBase64()}"/>`,
    `<filter id="g" filterUnits="userSpaceOnUse" width="1e9" height="1e9"><feGaussianBlur stdDeviation="9"/>` +
    `<feMorphology radius="9"/><feOffset/></filter><g filter="url(#g)"><rect width="5" height="5"/></g>`,
  ];
  for (const [i, body] of hidden.entries()) images.push([`hidden${i}.svg`, inSvg(body)]);
  images.push(["good.png", goodPng], ["good.jpg", goodJpeg], ["good.svg", goodSvg]);
  for (const [name, bytes] of images) await Deno.writeFile(`${dir.path}/${name}`, bytes);

  const requests: unknown[] = [];
  for (const [name] of images) {
    const op = name.endsWith(".svg") ? "rasterize" : "resize";
    // An animation is made whole, in its own format, as well as taken as a still.
    const formats = name.includes("anim.") ? ["png", name.split(".").pop()!] : ["png"];
    for (const format of formats) {
      requests.push(
        jobBody(
          op,
          `file://${dir.path}/${encodeURIComponent(name)}`,
          `file://${dir.path}/out/{$basename}-{$width}.{$format}`,
          { width: 1 + Math.floor(rand() * 64), format },
        ),
      );
    }
  }
  const src = `file://${dir.path}/cut0.png`;
  const base = resizeJob(src, `file://${dir.path}/out/x.png`);
  for (
    const args of [
      { width: "NaN" },
      { width: 1e308 },
      { width: -0 },
      { width: null, height: null },
      { width: [1] },
      { width: {} },
      { height: 2 ** 53 },
      { quality: "high", width: 1 },
      { mode: "crop", width: 1 },
      { width: 1, format: null },
    ]
  ) requests.push({ ...base, args });
  for (const [name, op] of [["good.png", "resize"], ["good.svg", "rasterize"], ["good.jpg", "resize"]]) {
    // Within --max-side, but more pixels than a worker can allocate.
    for (const args of [{ width: 16383, height: 16383, mode: "stretch" }, { width: 12000, height: 9000 }]) {
      requests.push({ ...base, operationType: op, srcURL: `file://${dir.path}/${name}`, args });
    }
  }
  requests.push({ ...base, args: { width: 1 }, dstURL: `file://${dir.path}/out/${"{$basename}".repeat(200)}.png` });
  requests.push({ ...base, args: { width: 1 }, dstURL: `file://${dir.path}/out/{$}{$$}{$width.png` });
  requests.push({ ...base, operationType: ["resize"], args: { width: 1 } });
  requests.push({ ...base, srcURL: "file:///%ZZ", args: { width: 1 } });
  requests.push({ ...base, srcURL: "", args: { width: 1 } });
  // Names no file can have, and names too long once the temporary suffix is added.
  const nameCases: { dstURL: string; args: unknown }[] = [];
  for (const bad of ["%00", "\u0000", "\u0007", "%1b", "\u007f", "%C2%85", "\ud800", "\udfff", "a\ud83d"]) {
    nameCases.push({ ...base, args: { width: 1 }, dstURL: `file://${dir.path}/out/x${bad}y.png` });
    requests.push({ ...base, args: { width: 1 }, srcURL: `file://${dir.path}/cut0${bad}.png` });
  }
  for (let bytes = 238; bytes <= 256; bytes += 1 + Math.floor(rand() * 3)) {
    nameCases.push({ ...base, args: { width: 1 }, dstURL: `file://${dir.path}/out/${"n".repeat(bytes - 4)}.png` });
  }
  requests.push(...nameCases);
  for (
    const callbackURL of [
      "file:///etc/passwd",
      "gopher://example.com/",
      "javascript:alert(1)",
      `http://example.com/${"c".repeat(3000)}`,
      "http://127.0.0.1:1/cb",
      "http://[::127.0.0.1]:1/cb",
    ]
  ) requests.push({ ...base, args: { width: 1 }, callbackURL });
  requests.push(
    "[]",
    "null",
    '"just a string"',
    '{"operationType":',
    "\u0000\u0001",
    "{}".repeat(1000),
    "9".repeat(5000),
  );

  // A process of its own, so its memory is measured apart from the other tests running in parallel.
  await using imgserve = await spawnServer([
    "--workers",
    "2",
    "--max-queue",
    "1000",
    "--kv",
    ":memory:",
    ...OPEN_FLAGS,
  ]);
  const rss = async () =>
    Number(/^VmRSS:\s+(\d+)/m.exec(await Deno.readTextFile(`/proc/${imgserve.child.pid}/status`))![1]) * 1024;
  const post = (body: unknown) => postJob(imgserve.base, body);
  const finished = (id: string) => waitFinished(imgserve.base, id);
  const before = await rss();
  const accepted: string[] = [];
  const refused = new Map<string, number>();
  for (const body of requests) {
    const reply = await post(body);
    if (reply.status === 202) {
      accepted.push(reply.json.id as string);
      continue;
    }
    assert(reply.status >= 400 && reply.status < 600, `status ${reply.status}`);
    if (reply.json.msg === "request parse error") continue;
    assertEquals(reply.json.msg, "request invalid");
    assert(Number.isInteger(reply.json.code) && (reply.json.code as number) >= 101, JSON.stringify(reply.json));
    assert(!/\.tmp|imgserve-tmp/.test(String(reply.json.error)), `a temporary name leaked: ${reply.json.error}`);
    refused.set(String(reply.json.code), (refused.get(String(reply.json.code)) ?? 0) + 1);
  }
  // Names the validation can judge get 1xx codes, not a failure at the destination.
  for (const [i, body] of nameCases.entries()) {
    const dst = body.dstURL;
    const reply = await post(body);
    assert(reply.status === 202 || (reply.json.code as number) < 200, `${i}: ${JSON.stringify(reply.json)}`);
    if (reply.status === 202) {
      assert(new TextEncoder().encode(decodeURIComponent(dst.split("/").pop()!)).length <= 241, dst.slice(-20));
      accepted.push(reply.json.id as string);
    }
  }
  // Only JSON bodies are taken.
  for (const type of ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=b", "json"]) {
    const response = await fetch(`${imgserve.base}/`, {
      method: "POST",
      body: JSON.stringify(requests[0]),
      headers: { "content-type": type },
    });
    assertEquals([response.status, (await response.json()).code], [415, 109], type);
  }
  for (const id of accepted) {
    const job = await finished(id);
    if (job.state === "failed") {
      assert(Number.isInteger(job.code), JSON.stringify(job));
      // A sentence for people, never the codecs' own words.
      assert(!/unwrap|aliasing|RuntimeError|unreachable|wasm|rust|`/i.test(String(job.error)), JSON.stringify(job));
    }
  }
  const health = await fetch(`${imgserve.base}/healthz`);
  assertEquals(health.status, 200);
  assertEquals((await health.json()).workers, 2);
  // Every file at the destination is a whole image, never a temporary or half-written one.
  for await (const entry of Deno.readDir(`${dir.path}/out`)) {
    assert(!entry.name.startsWith("."), `stray ${entry.name}`);
    const bytes = await Deno.readFile(`${dir.path}/out/${entry.name}`);
    assertEquals(readHeader(bytes, true).format, entry.name.split(".").pop(), entry.name);
  }
  // Every hidden image and every oversized result was refused before any work, with its own code; so was
  // every animation frame outside its screen or canvas.
  assert((refused.get("204") ?? 0) >= 4, `204: ${refused.get("204")}`);
  assert((refused.get("502") ?? 0) >= 6, `502: ${refused.get("502")}`);
  assert((refused.get("507") ?? 0) >= 4, `507: ${refused.get("507")}`);
  const grown = await rss() - before;
  assert(grown < 400 * 1024 * 1024, `rss grew by ${Math.round(grown / 1048576)} MB`);
  assert(
    accepted.length > 10 && accepted.length < requests.length,
    `${accepted.length} of ${requests.length} accepted`,
  );
});
