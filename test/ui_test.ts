/**
 * The dashboard at `/ui`: served without the token and self-contained, the
 * preview route behind it, and the page itself in a real headless Chromium.
 */
import type { Browser, Page } from "puppeteer-core";
import { assert, assertEquals } from "./helpers/assert.ts";
import { heldSource, serve, tempDir } from "./helpers/server.ts";
import { resizeJob } from "./helpers/jobs.ts";
import { pollUntil } from "./helpers/poll.ts";
import { png, thirds } from "./helpers/images.ts";
import { chromium, CHROMIUM_NEEDED } from "./fixtures/chromium.ts";
import { skipped } from "./helpers/requirements.ts";

const PHOTO = "/usr/share/backgrounds/mate/nature/FreshFlower.jpg";
const TOKEN = "t0ken";
const AUTH = { authorization: `Bearer ${TOKEN}` };
/** Puppeteer keeps timers and pipes of its own between steps; without Chromium these fail unless skipped by name. */
const BROWSER_TEST = { sanitizeOps: false, sanitizeResources: false, ignore: skipped(CHROMIUM_NEEDED) };

/** A temporary folder holding the photo as flower.jpg. */
async function photoDir(): Promise<Awaited<ReturnType<typeof tempDir>>> {
  const dir = await tempDir();
  await Deno.copyFile(PHOTO, `${dir.path}/flower.jpg`);
  return dir;
}

Deno.test("GET /ui is served without the token, holds no data and loads nothing from elsewhere", async () => {
  await using imgserve = await serve(["--token", TOKEN]);
  const response = await fetch(`${imgserve.base}/ui`);
  const html = await response.text();
  assertEquals(response.status, 200);
  assertEquals(response.headers.get("content-type"), "text/html; charset=UTF-8");
  const policy = response.headers.get("content-security-policy") ?? "";
  assert(policy.includes("default-src 'none'") && policy.includes("connect-src 'self'"), policy);
  assert(!/<(script|img|link|iframe)[^>]+(src|href)=/i.test(html), "the page loads no external file");
  assert(!/https?:\/\//.test(html), "the page names no other server");
  assert(!html.includes(TOKEN), "the page holds no token");
  for (const path of ["/jobs", "/jobs/x", "/jobs/x/outputs/0", "/events", "/metrics", "/ui/"]) {
    const refused = await fetch(`${imgserve.base}${path}`);
    await refused.body?.cancel();
    assertEquals(refused.status, 401, `${path} without the token`);
  }
});

Deno.test("GET /jobs/<id>/outputs/<n> reads back a finished output's bytes, only a finished one, within --max-source-bytes", async () => {
  await using dir = await photoDir();
  await using source = heldSource({ "/held.png": await png(thirds(600, 400)) });
  await using imgserve = await serve(["--token", TOKEN, "--max-source-bytes", String(1 << 20)], { token: TOKEN });
  const { json } = await imgserve.post(resizeJob(`file://${dir.path}/flower.jpg`, `file://${dir.path}/s.png`, {
    width: 120,
    format: "png",
  }));
  await imgserve.finished(json.id as string);
  const response = await fetch(`${imgserve.base}/jobs/${json.id}/outputs/0`, { headers: AUTH });
  assertEquals(response.headers.get("content-type"), "image/png");
  assertEquals(new Uint8Array(await response.arrayBuffer()), await Deno.readFile(`${dir.path}/s.png`));
  const beyond = await fetch(`${imgserve.base}/jobs/${json.id}/outputs/1`, { headers: AUTH });
  assertEquals([beyond.status, (await beyond.json()).code], [400, 126]);

  // Read back as a source is: a file grown past --max-source-bytes since is refused, not streamed.
  await Deno.writeFile(`${dir.path}/s.png`, new Uint8Array(2 << 20));
  const large = await fetch(`${imgserve.base}/jobs/${json.id}/outputs/0`, { headers: AUTH });
  assertEquals([large.status, (await large.json()).code], [413, 203]);

  const held = await imgserve.post(resizeJob(`${source.base}/held.png`, `file://${dir.path}/h.png`, { width: 90 }));
  const pending = await fetch(`${imgserve.base}/jobs/${held.json.id}/outputs/0`, { headers: AUTH });
  assertEquals([pending.status, (await pending.json()).code], [404, 605]);
  source.release();
  await imgserve.finished(held.json.id as string);
});

/** Waits for `predicate` in the page, up to 20 s. */
async function until(page: Page, predicate: string, what: string): Promise<void> {
  try {
    await page.waitForFunction(predicate, { timeout: 20_000, polling: 100 });
  } catch (err) {
    const text = await (page.evaluate("document.body.innerText") as Promise<string>).catch(() => "");
    throw new Error(`${what} did not happen within 20 s; the page shows:\n${text.slice(0, 1500)}`, { cause: err });
  }
}

/** A tab of `browser` at the dashboard of the server at `base`. */
async function openDashboard(browser: Browser, base: string): Promise<Page> {
  const page = await browser.newPage();
  await page.setViewport({ width: 1100, height: 820 });
  await page.goto(`${base}/ui`, { timeout: 20_000 });
  return page;
}

const rowOf = (id: string, state?: string) =>
  `document.querySelector('#jobs tr[data-id="${id}"] [data-field="state"]')` +
  (state ? `?.textContent === "${state}"` : "");

Deno.test({
  name: "in Chromium: a job posted by another client appears without a reload, and its detail shows the preview",
  ...BROWSER_TEST,
  fn: async () => {
    await using dir = await photoDir();
    await using imgserve = await serve();
    await using chrome = await chromium();
    const page = await openDashboard(chrome.browser, imgserve.base);
    await until(page, `document.querySelector("#live").textContent === "live"`, "the event stream connecting");
    assert(await page.evaluate(`document.querySelector("#login").hidden`), "no token asked for");

    const { json } = await imgserve.post(resizeJob(`file://${dir.path}/flower.jpg`, `file://${dir.path}/s.png`, {
      width: 160,
      format: "png",
    }));
    const id = json.id as string;
    await until(page, rowOf(id, "done"), "the posted job listed as done");
    const { width } = await imgserve.finished(id);

    await page.click(`#jobs tr[data-id="${id}"] button`);
    await until(page, `document.querySelector("#outputs img")?.complete`, "the preview loaded");
    const natural = await page.evaluate(`document.querySelector("#outputs img").naturalWidth`);
    assertEquals(natural, width);
    assertEquals(natural, 160);
    assert(await page.evaluate(`document.querySelector("#retry").disabled`), "a done job has no retry");
    const facts = await page.evaluate(`document.querySelector("#facts").innerText`) as string;
    assert(facts.includes(`file://${dir.path}/flower.jpg`) && facts.includes('"width":160'), facts);
    // A test artifact; IMGSERVE_TEST_SCREENSHOT=docs/dashboard.png renews the README's image.
    const path = Deno.env.get("IMGSERVE_TEST_SCREENSHOT") ??
      `${Deno.env.get("TMPDIR") ?? "/tmp"}/imgserve-dashboard.png`;
    await page.screenshot({ path: path as `${string}.png` });
  },
});

Deno.test({
  name:
    "in Chromium with --token: the page asks, asks again after a wrong one, keeps it for the tab, and lists the jobs",
  ...BROWSER_TEST,
  fn: async () => {
    await using dir = await photoDir();
    await using imgserve = await serve(["--token", TOKEN], { token: TOKEN });
    const { json } = await imgserve.post(resizeJob(`file://${dir.path}/flower.jpg`, `file://${dir.path}/s.jpg`, {
      width: 50,
    }));
    await using chrome = await chromium();
    const page = await openDashboard(chrome.browser, imgserve.base);
    await until(page, `!document.querySelector("#login").hidden`, "the token asked for");
    await page.type("#token", "wrong");
    await page.keyboard.press("Enter");
    await until(page, `document.querySelector("#token-why").textContent.includes("refused")`, "a wrong token refused");
    await page.type("#token", TOKEN);
    await page.keyboard.press("Enter");
    await until(page, rowOf(json.id as string), "the job listed");
    assertEquals(await page.evaluate(`sessionStorage.getItem("imgserve-token")`), TOKEN);
    await page.reload({ timeout: 20_000 });
    await until(page, rowOf(json.id as string), "the job listed again, without asking");
    await imgserve.finished(json.id as string);
  },
});

Deno.test({
  name: "in Chromium: Cancel on a job held by a slow source ends it cancelled",
  ...BROWSER_TEST,
  fn: async () => {
    await using dir = await tempDir();
    await using source = heldSource({ "/held.png": await png(thirds(600, 400)) });
    await using imgserve = await serve();
    const { json } = await imgserve.post(resizeJob(`${source.base}/held.png`, `file://${dir.path}/h.jpg`, {
      width: 90,
    }));
    const id = json.id as string;
    await using chrome = await chromium();
    const page = await openDashboard(chrome.browser, imgserve.base);
    await until(page, rowOf(id), "the held job listed");
    // Keyboard only: the job's button opens the detail and moves focus to it; Tab reaches Cancel.
    await page.focus(`#jobs tr[data-id="${id}"] button`);
    await page.keyboard.press("Enter");
    await until(page, `document.activeElement.id === "detail-title"`, "the detail shown and focused");
    assertEquals(await page.evaluate(`document.querySelector("#detail-id").textContent`), id);
    await page.keyboard.press("Tab");
    assertEquals(await page.evaluate(`document.activeElement.id`), "cancel");
    await page.keyboard.press("Enter");
    await until(
      page,
      `document.querySelector("#status").textContent.startsWith("cancel asked for")`,
      "the cancel sent",
    );
    source.release(); // a download in progress is not cut short: the attempt stops after it
    await pollUntil(async () => {
      const status = await (await fetch(`${imgserve.base}/jobs/${id}`)).json();
      return status.state === "cancelled" && status.code === 607;
    }, { timeoutMs: 20_000, message: "the job cancelled" });
    await until(page, rowOf(id, "cancelled"), "the row showing cancelled");
    await until(page, `!document.querySelector("#retry").disabled`, "retry offered for the cancelled job");
  },
});
