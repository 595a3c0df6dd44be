import { assert, assertEquals } from "./helpers/assert.ts";
import { serve, tempDir } from "./helpers/server.ts";
import { resizeJob } from "./helpers/jobs.ts";
import { OPENAPI } from "../src/openapi.ts";

const PHOTO = "/usr/share/backgrounds/mate/nature/FreshFlower.jpg";
type Schema = Record<string, unknown>;

/** The JSON Schema subset the document uses: $ref, type, enum, required, properties, additionalProperties, items. */
function problems(value: unknown, schema: Schema, at = "$"): string[] {
  if (schema.$ref) {
    const name = (schema.$ref as string).split("/").at(-1)!;
    return problems(value, (OPENAPI.components.schemas as Record<string, Schema>)[name], at);
  }
  if (schema.enum && !(schema.enum as unknown[]).includes(value)) {
    return [`${at}: ${JSON.stringify(value)} not in enum`];
  }
  const type = schema.type as string | undefined;
  const kind = Array.isArray(value) ? "array" : Number.isInteger(value) ? "integer" : typeof value;
  if (type && type !== kind && !(type === "number" && kind === "integer")) return [`${at}: ${kind}, not ${type}`];
  const found: string[] = [];
  if (kind === "object" && value) {
    const object = value as Record<string, unknown>;
    const properties = (schema.properties ?? {}) as Record<string, Schema>;
    for (const key of (schema.required ?? []) as string[]) if (!(key in object)) found.push(`${at}.${key} missing`);
    for (const [key, item] of Object.entries(object)) {
      if (properties[key]) found.push(...problems(item, properties[key], `${at}.${key}`));
      else if (schema.additionalProperties === false) found.push(`${at}.${key} not described`);
    }
  }
  if (kind === "array" && schema.items) {
    (value as unknown[]).forEach((item, i) => found.push(...problems(item, schema.items as Schema, `${at}[${i}]`)));
  }
  return found;
}

/** The document's path template and operation for a real path. */
function operation(method: string, path: string): { template: string; op?: Record<string, unknown> } {
  for (const [template, item] of Object.entries(OPENAPI.paths)) {
    const pattern = new RegExp(`^${template.replace(/\{[^}]+\}/g, "[^/]+")}$`);
    if (pattern.test(path)) {
      return { template, op: (item as Record<string, Record<string, unknown>>)[method.toLowerCase()] };
    }
  }
  return { template: "" };
}

Deno.test("/openapi.json describes every route, and every real reply matches its status, schema and codes", async () => {
  await using dir = await tempDir();
  await Deno.copyFile(PHOTO, `${dir.path}/flower.jpg`);
  await using imgserve = await serve(["--token", "t0ken"]);
  const auth = { authorization: "Bearer t0ken" };
  const seen = new Set<string>();
  const call = async (method: string, path: string, init: RequestInit = {}) => {
    const response = await fetch(`${imgserve.base}${path}`, {
      method,
      ...init,
      headers: { ...auth, ...init.headers as Record<string, string> },
    });
    const { template, op } = operation(method, new URL(path, "http://x").pathname);
    assert(op, `${method} ${path} is not in the document`);
    const reply = (op.responses as Record<string, Record<string, unknown>>)[response.status];
    assert(reply, `${method} ${path} answered ${response.status}, not in the document`);
    seen.add(`${method} ${template}`);
    const type = response.headers.get("content-type")?.split(";")[0] ?? "";
    const content = reply.content as Record<string, { schema: Schema }>;
    const media = content[type] ? type : `${type.split("/")[0]}/*`;
    assert(content[media], `${method} ${path} ${response.status} sent ${type}`);
    if (type === "text/event-stream") {
      await response.body?.cancel();
      return {};
    }
    const body = type === "application/json" ? await response.json() : await response.text();
    assertEquals(problems(body, content[media].schema), [], `${method} ${path} ${response.status}`);
    if (reply["x-codes"]) assert((reply["x-codes"] as number[]).includes(body.code), `code ${body.code} of ${path}`);
    return body;
  };
  const post = (body: unknown, headers: Record<string, string> = {}) =>
    call("POST", "/", { body: JSON.stringify(body), headers: { "content-type": "application/json", ...headers } });

  // The checker itself finds what is wrong.
  assertEquals(problems({ id: 1, state: "lost", extra: true }, { $ref: "#/components/schemas/JobStatus" }).length, 5);
  const job = resizeJob(`file://${dir.path}/flower.jpg`, `file://${dir.path}/s.jpg`, { width: 50 });
  const { id } = await post(job, { "idempotency-key": "a" });
  await post({ ...job, args: { width: 51 } }, { "idempotency-key": "a" }); // 422
  await post({ ...job, args: { width: -1 } }); // 400
  await post({ ...job, srcURL: "file:///etc/passwd" }); // 403
  await call("POST", "/", { body: "{}", headers: { "content-type": "text/plain" } }); // 415
  for (let i = 0; i < 200 && (await call("GET", `/jobs/${id}`)).state !== "done"; i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
  await call("GET", "/jobs?limit=1");
  await call("GET", "/jobs?limit=0");
  await call("GET", "/jobs/nope");
  await call("DELETE", `/jobs/${id}`); // 409
  await call("DELETE", "/jobs/nope");
  await call("POST", `/jobs/${id}/retry`); // 409
  await call("POST", "/jobs/nope/retry");
  await call("GET", `/jobs/${id}/outputs/0`);
  await call("GET", `/jobs/${id}/outputs/1`); // 400
  await call("GET", "/jobs/nope/outputs/0");
  await call("GET", "/ui");
  await call("GET", "/events");
  await call("GET", "/healthz");
  await call("GET", "/metrics");
  await call("GET", "/openapi.json");
  const unauthorized = await fetch(`${imgserve.base}/jobs`);
  assertEquals([unauthorized.status, (await unauthorized.json()).code], [401, 401]);

  const documented = Object.entries(OPENAPI.paths).flatMap(([path, item]) =>
    Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`)
  );
  assertEquals([...seen].sort(), documented.sort(), "every documented route was called");
});
