import { assert, assertEquals } from "./helpers/assert.ts";
import { serve, tempDir } from "./helpers/server.ts";
import { resizeJob } from "./helpers/jobs.ts";
import { EventHub } from "../src/events.ts";

const PHOTO = "/usr/share/backgrounds/mate/nature/FreshFlower.jpg";

interface Sse {
  id?: string;
  event: string;
  data: Record<string, unknown>;
}

/** Reads events from `GET /events` until `until` says stop, within `timeoutMs`. */
async function readEvents(
  base: string,
  until: (events: Sse[]) => boolean,
  headers: Record<string, string> = {},
  timeoutMs = 20_000,
): Promise<Sse[]> {
  const response = await fetch(`${base}/events`, { headers, signal: AbortSignal.timeout(timeoutMs) });
  assertEquals(response.status, 200);
  assertEquals(response.headers.get("content-type"), "text/event-stream");
  const events: Sse[] = [];
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  try {
    while (!until(events)) {
      const { done, value } = await reader.read();
      if (done) break;
      text += value;
      let end;
      while ((end = text.indexOf("\n\n")) >= 0) {
        const block = text.slice(0, end);
        text = text.slice(end + 2);
        const fields = Object.fromEntries(
          block.split("\n").map((line) => [line.slice(0, line.indexOf(":")), line.slice(line.indexOf(":") + 2)]),
        );
        if (fields.event) events.push({ id: fields.id, event: fields.event, data: JSON.parse(fields.data) });
      }
    }
  } finally {
    await reader.cancel();
  }
  return events;
}

Deno.test("GET /events streams a job's changes in order, and a reconnect with Last-Event-ID gets what it missed", async () => {
  await using dir = await tempDir();
  await Deno.copyFile(PHOTO, `${dir.path}/flower.jpg`);
  await using imgserve = await serve();
  const done = (events: Sse[]) => events.some((e) => e.event === "job" && e.data.event === "done");
  const listening = readEvents(imgserve.base, done);
  const { json } = await imgserve.post(
    resizeJob(`file://${dir.path}/flower.jpg`, `file://${dir.path}/s.jpg`, { width: 90 }),
  );
  const events = (await listening).filter((e) => e.event === "job");
  assertEquals(events.map((e) => [e.data.id, e.data.event]), [[json.id, "accepted"], [json.id, "done"]]);
  const ids = events.map((e) => Number(e.id));
  assert(ids[0] < ids[1], `ids ${ids} rise`);

  const resumed = await readEvents(imgserve.base, done, { "last-event-id": String(ids[0]) });
  assertEquals(resumed.filter((e) => e.event === "job").map((e) => [e.id, e.data.event]), [[String(ids[1]), "done"]]);
});

Deno.test("a client that never reads /events is disconnected at its buffer's bound; the server's memory stays bounded", async () => {
  await using imgserve = await serve();
  const hub = imgserve.server.events;
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: imgserve.server.addr.port });
  try {
    await conn.write(new TextEncoder().encode("GET /events HTTP/1.1\r\nhost: x\r\n\r\n"));
    for (let i = 0; i < 100 && hub.clients === 0; i++) await new Promise((r) => setTimeout(r, 20));
    assertEquals(hub.clients, 1);
    const rssBefore = Deno.memoryUsage().rss;
    const filler = "x".repeat(4000);
    // 40,000 events of 4 kB: 160 MB if anything held them all.
    let sent = 0;
    for (; sent < 40_000 && hub.clients > 0; sent++) {
      hub.publish("job", { event: "test", n: sent, filler });
      if (sent % 500 === 0) await new Promise((r) => setTimeout(r, 1)); // let the connection write what it can
    }
    const grownMb = (Deno.memoryUsage().rss - rssBefore) / 2 ** 20;
    console.log(
      `disconnected after ${sent} events (${(sent * 4) / 1000} MB), most queued ${hub.maxQueued} bytes, RSS +${
        grownMb.toFixed(1)
      } MB`,
    );
    assertEquals(hub.clients, 0, "the slow client is gone");
    assertEquals(hub.dropped, 1);
    assert(hub.maxQueued <= 1 << 20, `queued ${hub.maxQueued} bytes for one client`);
    assert(sent < 40_000, "disconnected well before the end");
    assert(grownMb < 64, `RSS grew ${grownMb.toFixed(1)} MB`);
  } finally {
    conn.close();
  }
});

Deno.test("GET /events needs the token like every route", async () => {
  await using imgserve = await serve(["--token", "s3cret"], { token: "s3cret" });
  const refused = await fetch(`${imgserve.base}/events`);
  assertEquals([refused.status, (await refused.json()).code], [401, 401]);
  const events = await readEvents(imgserve.base, () => true, { authorization: "Bearer s3cret" });
  assertEquals(events, []);
});

Deno.test("while a client listens, the hub sends pool health as a heartbeat, and stops when the client goes", async () => {
  const hub = new EventHub({ heartbeatMs: 50, health: () => ({ busy: 1 }) });
  const reader = hub.stream().pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  for (let i = 0; i < 50 && !text.includes("event: pool"); i++) text += (await reader.read()).value;
  assert(text.includes('event: pool\ndata: {"busy":1}\n\n'), text);
  await reader.cancel();
  assertEquals(hub.clients, 0);
});
