/**
 * The OpenAPI document served at `/openapi.json`: every route, its
 * request, its replies and the error codes each may carry. A test checks
 * it against real replies (test/openapi_test.ts).
 *
 * @module
 */

const json = (schema: Record<string, unknown>) => ({ "application/json": { schema } });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

/** A reply of status `status` carrying the error codes `codes` (see the README's table). */
function errors(codes: number[], what: string) {
  return { description: `${what} (code ${codes.join(", ")})`, "x-codes": codes, content: json(ref("Error")) };
}

const jobId = { name: "id", in: "path", required: true, schema: { type: "string" } };
const unauthorized = errors([401], "missing or wrong bearer token (with --token)");

/**
 * The document.
 *
 * @example
 * ```ts
 * app.get("/openapi.json", (c) => c.json(OPENAPI));
 * ```
 */
export const OPENAPI = {
  openapi: "3.1.0",
  info: { title: "imgserve", version: "1", description: "Image jobs: resize and rasterize, from a URL to a URL." },
  components: {
    securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
    schemas: {
      Error: {
        type: "object",
        required: ["msg", "code", "error"],
        properties: { msg: { type: "string" }, code: { type: "integer" }, error: { type: "string" } },
      },
      JobRequest: {
        type: "object",
        required: ["operationType", "srcURL"],
        properties: {
          operationType: { enum: ["resize", "rasterize"] },
          srcURL: { type: "string" },
          dstURL: { type: "string" },
          args: { type: "object" },
          outputs: {
            type: "array",
            items: { type: "object", required: ["dstURL", "args"] },
          },
          callbackURL: { type: "string" },
        },
      },
      Accepted: {
        type: "object",
        required: ["id"],
        properties: { id: { type: "string" }, dstURL: { type: "string" }, outputs: { type: "array" } },
      },
      JobStatus: {
        type: "object",
        required: ["id", "state", "attempts", "acceptedAt"],
        properties: {
          id: { type: "string" },
          state: { enum: ["queued", "running", "done", "failed", "cancelled"] },
          dstURL: { type: "string" },
          width: { type: "integer" },
          height: { type: "integer" },
          attempts: { type: "integer" },
          acceptedAt: { type: "string" },
          startedAt: { type: "string" },
          finishedAt: { type: "string" },
          retryAt: { type: "string" },
          error: { type: "string" },
          code: { type: "integer" },
          times: { type: "object" },
          cancelRequested: { type: "boolean" },
          callback: { type: "object" },
          outputs: { type: "array", items: { type: "object", required: ["dstURL", "state"] } },
          request: {
            type: "object",
            required: ["operationType", "srcURL", "outputs"],
            properties: {
              operationType: { type: "string" },
              srcURL: { type: "string" },
              outputs: { type: "array", items: { type: "object", required: ["dstURL", "args"] } },
              callbackURL: { type: "string" },
            },
            additionalProperties: false,
          },
        },
        additionalProperties: false,
      },
      JobList: {
        type: "object",
        required: ["jobs"],
        properties: { jobs: { type: "array", items: ref("JobStatus") }, next: { type: "string" } },
        additionalProperties: false,
      },
      Health: {
        type: "object",
        required: ["ok", "workers", "busy", "queued", "jobs", "journal"],
        properties: {
          ok: { type: "boolean" },
          workers: { type: "integer" },
          busy: { type: "integer" },
          queued: { type: "integer" },
          jobs: { type: "integer" },
          journal: { type: "boolean" },
          connections: { type: "integer" },
          memory: { type: "object" },
        },
      },
    },
  },
  security: [{ bearer: [] }],
  paths: {
    "/": {
      post: {
        summary: "Accept a job",
        parameters: [{ name: "Idempotency-Key", in: "header", schema: { type: "string" } }],
        requestBody: { required: true, content: json(ref("JobRequest")) },
        responses: {
          202: { description: "accepted; Location: /jobs/<id>", content: json(ref("Accepted")) },
          400: errors(
            [101, 102, 103, 104, 105, 106, 107, 108, 116, 117, 118, 119, 121, 126, 127, 128, 513],
            "request invalid",
          ),
          401: unauthorized,
          403: errors([402, 403, 404, 405], "access refused"),
          404: errors([202], "source not found"),
          408: errors([511], "request timed out"),
          409: errors([115, 123, 214], "in place, or the Idempotency-Key's first request still runs"),
          413: errors([203, 501, 502, 504, 508, 514, 515, 516, 517], "over a limit"),
          415: errors([109, 205, 609], "unsupported media type or source format"),
          422: errors([122, 204, 210, 503, 507], "unusable source or result, or an Idempotency-Key with another body"),
          502: errors([201, 207, 208, 211, 301, 302, 303, 305, 306, 701, 702, 703, 705], "a peer failed"),
          503: errors([505, 506, 509, 512], "try again later (Retry-After)"),
          504: errors([206, 304, 704], "a peer timed out"),
        },
      },
    },
    "/jobs": {
      get: {
        summary: "List jobs, newest first",
        parameters: [
          { name: "state", in: "query", schema: { type: "array", items: { type: "string" } }, explode: true },
          { name: "since", in: "query", schema: { type: "string" } },
          { name: "limit", in: "query", schema: { type: "integer", minimum: 1, maximum: 500 } },
          { name: "cursor", in: "query", schema: { type: "string" } },
        ],
        responses: {
          200: { description: "one page", content: json(ref("JobList")) },
          400: errors([126], "bad state, since, limit or cursor"),
          401: unauthorized,
        },
      },
    },
    "/jobs/{id}": {
      get: {
        summary: "A job's status",
        parameters: [jobId],
        responses: {
          200: { description: "the status", content: json(ref("JobStatus")) },
          401: unauthorized,
          404: errors([605], "no such job"),
        },
      },
      delete: {
        summary: "Cancel a job",
        parameters: [jobId],
        responses: {
          202: { description: "cancel requested; the job ends cancelled (607)", content: json(ref("JobStatus")) },
          401: unauthorized,
          404: errors([605], "no such job"),
          409: errors([124], "the job has already ended"),
        },
      },
    },
    "/jobs/{id}/retry": {
      post: {
        summary: "Run a failed or cancelled job again",
        parameters: [jobId],
        responses: {
          202: { description: "queued again", content: json(ref("JobStatus")) },
          401: unauthorized,
          404: errors([605], "no such job"),
          409: errors([125], "the job is neither failed nor cancelled"),
        },
      },
    },
    "/events": {
      get: {
        summary: "Server-Sent Events: job changes and pool health",
        parameters: [{ name: "Last-Event-ID", in: "header", schema: { type: "string" } }],
        responses: {
          200: { description: "an event stream", content: { "text/event-stream": { schema: { type: "string" } } } },
          401: unauthorized,
        },
      },
    },
    "/jobs/{id}/outputs/{n}": {
      get: {
        summary: "A finished output's bytes, read back from its destination (the dashboard's preview)",
        parameters: [jobId, { name: "n", in: "path", required: true, schema: { type: "integer", minimum: 0 } }],
        responses: {
          200: { description: "the image", content: { "image/*": { schema: { type: "string" } } } },
          400: errors([126], "no output n"),
          401: unauthorized,
          404: errors([605, 202], "no such job, the output is not done, or its file is gone"),
          413: errors([203], "the file is now over --max-source-bytes"),
        },
      },
    },
    "/ui": {
      get: {
        summary: "The dashboard page (no token needed: it holds no data)",
        security: [],
        responses: { 200: { description: "HTML", content: { "text/html": { schema: { type: "string" } } } } },
      },
    },
    "/healthz": {
      get: {
        summary: "Health (no token needed)",
        security: [],
        responses: {
          200: { description: "healthy", content: json(ref("Health")) },
          503: { description: "the pool or the journal is down", content: json(ref("Health")) },
        },
      },
    },
    "/metrics": {
      get: {
        summary: "Prometheus metrics",
        responses: {
          200: { description: "Prometheus text", content: { "text/plain": { schema: { type: "string" } } } },
          401: unauthorized,
        },
      },
    },
    "/openapi.json": {
      get: {
        summary: "This document",
        responses: { 200: { description: "OpenAPI 3.1", content: json({ type: "object" }) }, 401: unauthorized },
      },
    },
  },
};
