/**
 * The Hono app: routes only. Requests are parsed and handed to the
 * {@linkcode JobRunner}; errors thrown by a route become JSON here, with
 * the one body every error reply has (errors.ts's errorBody; the listener
 * and connections use it for the replies they give themselves).
 *
 * @module
 */
import { type Context, Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { Journal } from "./journal/mod.ts";
import type { Metrics } from "./metrics.ts";
import { errorBody, internalError } from "./errors.ts";
import { type ErrorName, ImgserveError } from "../protocol/error_codes.ts";
import { parseJobRequest } from "./job/request.ts";
import type { JobRunner } from "./job/runner.ts";
import { replyBody, statusBody } from "./job/status.ts";
import type { WorkerPool } from "./pool/pool.ts";
import type { Limits } from "./config.ts";
import { limitBody, requireToken } from "./middleware.ts";
import { cors } from "hono/cors";
import { hostOf, type Log, maskCredentials } from "./log.ts";
import { idempotent } from "./job/idempotency.ts";
import { jobRoutes } from "./job_routes.ts";
import type { EventHub } from "./events.ts";
import { dashboardRoute } from "./ui/page.ts";
import { outputRoute } from "./ui/output_route.ts";

/** What the routes need. */
export interface AppDeps {
  runner: JobRunner;
  journal: Journal;
  pool: WorkerPool;
  metrics: Metrics;
  limits: Limits;
  /** What `GET /events` streams; the route answers 404 without it. */
  events?: EventHub;
  /** How long an Idempotency-Key answers its repeats (--idempotency-ms); one day by default. */
  idempotencyMs?: number;
  /** When set, every request but GET /healthz needs `Authorization: Bearer <token>`. */
  token?: string;
  /** Browser origins sent CORS headers (--cors-origin); none by default. */
  corsOrigins?: string[];
  /** Client connections open now, for /healthz. */
  connections?: () => number;
  log?: Log;
}

/** Refusals that pass by themselves: the reply says when to try again. */
const RETRY_LATER = new Set<ErrorName>([
  "QUEUE_FULL",
  "SHUTTING_DOWN",
  "JOURNAL_UNAVAILABLE",
  "IDEMPOTENCY_IN_PROGRESS",
]);

/**
 * Builds the app.
 *
 * @example
 * ```ts
 * Deno.serve({ port: 8602 }, createApp(deps).fetch);
 * ```
 */
export function createApp(deps: AppDeps): Hono {
  const app = new Hono();

  app.onError((thrown, c) => {
    if (!(thrown instanceof ImgserveError)) deps.log?.(`internal error: ${thrown.stack ?? thrown}`);
    const err = thrown instanceof ImgserveError ? thrown : internalError();
    if (c.req.method === "POST" && c.req.path === "/") deps.metrics.requests.inc({ outcome: String(err.code) });
    if (thrown instanceof ImgserveError) {
      deps.log?.({
        event: "request refused",
        method: c.req.method,
        path: c.req.path.slice(0, 200),
        status: err.status,
        code: err.code,
        error: maskCredentials(err.message),
      });
    }
    if (RETRY_LATER.has(err.name)) c.header("Retry-After", "5");
    return c.json(errorBody(err), err.status as ContentfulStatusCode);
  });

  // Before the token check: a preflight carries no Authorization header.
  if (deps.corsOrigins?.length) app.use("*", cors({ origin: deps.corsOrigins }));

  if (deps.token !== undefined) app.use("*", requireToken(deps.token));

  app.post("/", limitBody(deps.limits.maxBodyBytes), async (c) => {
    const end = deps.metrics.replyLatency.startTimer();
    if (!deps.runner.accepting) throw new ImgserveError("SHUTTING_DOWN", "the server is shutting down; try another");
    assertJson(c.req.header("content-type"));
    const body = await c.req.text();
    const key = c.req.header("idempotency-key");
    const ttlMs = deps.idempotencyMs ?? 86_400_000;
    const reply = key === undefined
      ? await submit(c, body)
      : await idempotent(deps.journal, key, body, ttlMs, () => submit(c, body));
    if (reply.status === 202) end(); // the latency of accepted jobs only, as before
    return reply;
  });

  /** Accepts one job from a request body: its 202, or a 400 for a body that is not JSON. */
  async function submit(c: Context, body: string): Promise<Response> {
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch (err) {
      deps.metrics.requests.inc({ outcome: "parse_error" });
      const error = jsonError(body, err as SyntaxError);
      deps.log?.({ event: "request refused", method: "POST", path: "/", status: 400, code: 121, error });
      return c.json(errorBody(new ImgserveError("BAD_JSON", error)), 400);
    }
    const request = parseJobRequest(json, deps.limits.maxSide);
    const accepted = await deps.runner.accept(request);
    deps.log?.({
      event: "job accepted",
      id: accepted.id,
      op: request.operationType,
      src: hostOf(request.srcURL.href),
      dst: [...new Set(accepted.outputs.map((output) => hostOf(output.dstURL)))].join(","),
      outputs: accepted.outputs.length,
    });
    c.header("Location", `/jobs/${accepted.id}`);
    deps.metrics.requests.inc({ outcome: "accepted" });
    return c.json(replyBody(accepted), 202);
  }

  jobRoutes(app, deps);
  outputRoute(app, deps);
  dashboardRoute(app);

  app.get("/jobs/:id", async (c) => {
    const record = await deps.journal.get(c.req.param("id"));
    if (!record) throw new ImgserveError("JOB_NOT_FOUND", `no job with id ${c.req.param("id").slice(0, 80)}`);
    return c.json(statusBody(record));
  });

  app.get("/metrics", async (c) => {
    return c.body(await deps.metrics.text(), 200, { "content-type": deps.metrics.registry.contentType });
  });

  app.get("/healthz", async (c) => {
    const pool = deps.pool;
    const journal = await deps.journal.healthy();
    const ok = pool.healthy && journal;
    const body = {
      ok,
      workers: pool.size,
      busy: pool.busy,
      queued: pool.queued,
      jobs: deps.runner.active,
      journal,
      connections: deps.connections?.(),
      memory: pool.memoryStatus,
    };
    return c.json(body, ok ? 200 : 503);
  });

  return app;
}

/**
 * Why `body` is not JSON, with the line and column where the parser stopped.
 * V8 gives a character position, or at the text's start only the token
 * (then its first occurrence is taken), or neither at the end of the text.
 */
export function jsonError(body: string, err: SyntaxError): string {
  const reason = err.message.replace(/,? "[^]*$/, "").replace(/( in JSON)? at position \d+.*$/, "");
  const at = / at position (\d+)/.exec(err.message)?.[1];
  const token = /^Unexpected token '(.)'/.exec(err.message)?.[1];
  const position = at !== undefined ? Number(at) : token !== undefined ? Math.max(0, body.indexOf(token)) : body.length;
  const lines = body.slice(0, position).split("\n");
  const where = `line ${lines.length}, column ${lines.at(-1)!.length + 1}`;
  return `the body is not valid JSON: ${reason.charAt(0).toLowerCase()}${reason.slice(1)} at ${where}`;
}

/**
 * Only JSON is taken: a browser may send text/plain, form and multipart
 * posts to any origin without asking first (no CORS preflight), so
 * accepting those would let any web page submit jobs.
 */
function assertJson(contentType: string | undefined): void {
  const mediaType = contentType?.split(";")[0].trim().toLowerCase();
  if (mediaType !== "application/json") {
    throw new ImgserveError(
      "UNSUPPORTED_MEDIA_TYPE",
      `POST / needs Content-Type: application/json, not ${contentType ? `"${contentType.slice(0, 80)}"` : "none"}`,
    );
  }
}
