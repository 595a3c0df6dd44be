import { Webhook, WebhookVerificationError } from "standardwebhooks";
import { assert, assertEquals } from "../helpers/assert.ts";
import { png, thirds } from "../helpers/images.ts";
import { httpServer, serve, tempDir } from "../helpers/server.ts";
import { parseConfig, processEnvironment } from "../../src/config.ts";
import { resizeJob } from "../helpers/jobs.ts";
import { pollUntil } from "../helpers/poll.ts";

const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

interface Delivery {
  headers: Record<string, string>;
  body: string;
}

/** A callback receiver that refuses the first `refusals` deliveries with 500. */
function receiver(refusals: number) {
  const deliveries: Delivery[] = [];
  const { promise: accepted, resolve } = Promise.withResolvers<void>();
  const server = httpServer(async (req) => {
    deliveries.push({ headers: Object.fromEntries(req.headers), body: await req.text() });
    if (deliveries.length <= refusals) return new Response("try again", { status: 500 });
    resolve();
    return new Response(null, { status: 204 });
  });
  return { deliveries, accepted, base: server.base, [Symbol.asyncDispose]: () => server[Symbol.asyncDispose]() };
}

/** Runs one job whose callback goes to `hook`; returns the job id once the hook has accepted a delivery. */
async function resizeWithCallback(flags: string[], hook: ReturnType<typeof receiver>): Promise<string> {
  await using dir = await tempDir();
  await Deno.writeFile(`${dir.path}/a.png`, await png(thirds(60, 40)));
  await using imgserve = await serve(["--retry-base-ms", "20", ...flags]);
  const { status, json } = await imgserve.post({
    ...resizeJob(`file://${dir.path}/a.png`, `file://${dir.path}/out.png`, { width: 30 }),
    callbackURL: `${hook.base}/hook`,
  });
  assertEquals(status, 202, JSON.stringify(json));
  assertEquals((await imgserve.finished(json.id as string)).state, "done");
  await hook.accepted;
  return json.id as string;
}

Deno.test("with --callback-secret, callbacks verify with standardwebhooks; a retry keeps its webhook-id", async () => {
  await using hook = receiver(1);
  const id = await resizeWithCallback(["--callback-secret", SECRET], hook);
  assertEquals(hook.deliveries.length, 2, "one refused, one retried");
  const webhook = new Webhook(SECRET);
  for (const { headers, body } of hook.deliveries) {
    assertEquals(headers["webhook-id"], id);
    assert(Math.abs(Number(headers["webhook-timestamp"]) - Date.now() / 1000) < 60, headers["webhook-timestamp"]);
    assert(/^v1,[A-Za-z0-9+/]+=*$/.test(headers["webhook-signature"]), headers["webhook-signature"]);
    const payload = webhook.verify(body, headers) as Record<string, unknown>;
    assertEquals([payload.id, payload.state, payload.width], [id, "done", 30]);
  }
  const { headers, body } = hook.deliveries[1];
  let refused: unknown;
  try {
    webhook.verify(body.replace('"done"', '"failed"'), headers);
  } catch (err) {
    refused = err;
  }
  assert(refused instanceof WebhookVerificationError, `a tampered body was accepted: ${refused}`);
  let wrongKey: unknown;
  try {
    new Webhook("whsec_" + btoa("another secret, 24 bytes")).verify(body, headers);
  } catch (err) {
    wrongKey = err;
  }
  assert(wrongKey instanceof WebhookVerificationError, "a signature under another secret was accepted");
});

Deno.test("IMGSERVE_CALLBACK_SECRET sets the secret too", () => {
  const env = processEnvironment();
  const config = parseConfig(["run"], { ...env, vars: { ...env.vars, IMGSERVE_CALLBACK_SECRET: SECRET } });
  assertEquals(config?.callbackSecret, SECRET);
});

Deno.test("without a secret, callbacks go out unsigned", async () => {
  await using hook = receiver(0);
  const id = await resizeWithCallback([], hook);
  const [{ headers, body }] = hook.deliveries;
  assertEquals(JSON.parse(body).id, id);
  assertEquals([headers["webhook-id"], headers["webhook-signature"]], [undefined, undefined]);
});

Deno.test("a callback waiting for its next attempt shows nextAt as an ISO time, as every other time in the status", async () => {
  await using hook = receiver(1);
  await using dir = await tempDir();
  await Deno.writeFile(`${dir.path}/a.png`, await png(thirds(60, 40)));
  // A long first retry delay, so the status is read while the callback waits for it.
  await using imgserve = await serve(["--retry-base-ms", "60000"]);
  const { json } = await imgserve.post({
    ...resizeJob(`file://${dir.path}/a.png`, `file://${dir.path}/out.png`, { width: 30 }),
    callbackURL: `${hook.base}/hook`,
  });
  assertEquals((await imgserve.finished(json.id as string)).state, "done");
  const callback = await pollUntil(async () => {
    const status = await (await fetch(`${imgserve.base}/jobs/${json.id}`)).json();
    return status.callback?.attempts === 1 && status.callback;
  }, { timeoutMs: 10_000, message: "the first delivery refused" });
  assert(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(callback.nextAt), `nextAt ${callback.nextAt}`);
  assert(Date.parse(callback.nextAt) > Date.now(), "in the future");
});
