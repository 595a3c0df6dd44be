/**
 * The routes that manage jobs: `GET /jobs` (the list, newest first, from
 * the journal's index), `DELETE /jobs/<id>` (cancel),
 * `POST /jobs/<id>/retry`, `GET /events`, and `/openapi.json` describing
 * every route. See docs/jobs-api.md.
 *
 * @module
 */
import type { Hono } from "hono";
import { ImgserveError } from "../protocol/error_codes.ts";
import { JOB_STATES, type JobState, type ListPosition, type ListQuery } from "./journal/mod.ts";
import { statusBody } from "./job/status.ts";
import type { AppDeps } from "./app.ts";
import { SSE_HEADERS } from "./events.ts";
import { OPENAPI } from "./openapi.ts";

/** The most jobs one page lists. */
export const MAX_LIMIT = 500;
const DEFAULT_LIMIT = 50;

/** Adds the job-management routes to `app`. */
export function jobRoutes(app: Hono, deps: Pick<AppDeps, "journal" | "runner" | "events">): void {
  const { events } = deps;
  if (events) {
    app.get("/events", (c) => {
      return new Response(events.stream(c.req.header("last-event-id")), { headers: SSE_HEADERS });
    });
  }

  app.get("/openapi.json", (c) => c.json(OPENAPI));

  app.get("/jobs", async (c) => {
    const query = listQuery(new URL(c.req.url).searchParams);
    const page = await deps.journal.list(query);
    return c.json({
      jobs: page.records.map((record) => statusBody(record, false)),
      ...(page.next ? { next: encodeCursor(page.next) } : {}),
    });
  });

  app.delete("/jobs/:id", async (c) => {
    const record = await deps.runner.cancel(c.req.param("id"));
    return c.json(statusBody(record), 202);
  });

  app.post("/jobs/:id/retry", async (c) => {
    const record = await deps.runner.retry(c.req.param("id"));
    c.header("Location", `/jobs/${record.id}`);
    return c.json(statusBody(record), 202);
  });
}

/**
 * The list's query from `GET /jobs?state=…&since=…&limit=…&cursor=…`:
 * `state` repeatable, `since` an ISO time or ms since the epoch, `limit`
 * 1 to 500 (default 50), `cursor` the `next` of the page before.
 *
 * @example
 * ```ts
 * listQuery(new URLSearchParams("state=failed&state=cancelled&limit=10"));
 * ```
 */
export function listQuery(params: URLSearchParams): ListQuery {
  const states = params.getAll("state").flatMap((value) => value.split(","));
  for (const state of states) {
    if (!JOB_STATES.includes(state as JobState)) {
      throw new ImgserveError(
        "BAD_PARAMETER",
        `state must be one of ${JOB_STATES.join(", ")}, not "${state.slice(0, 40)}"`,
      );
    }
  }
  const limitText = params.get("limit");
  const limit = limitText === null ? DEFAULT_LIMIT : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw new ImgserveError("BAD_PARAMETER", `limit must be a whole number from 1 to ${MAX_LIMIT}`);
  }
  const sinceText = params.get("since");
  const since = sinceText === null ? undefined : /^\d+$/.test(sinceText) ? Number(sinceText) : Date.parse(sinceText);
  if (since !== undefined && !Number.isFinite(since)) {
    throw new ImgserveError("BAD_PARAMETER", "since must be an ISO 8601 time or milliseconds since the epoch");
  }
  const cursor = params.get("cursor");
  return {
    limit,
    ...(states.length ? { states: states as JobState[] } : {}),
    ...(since !== undefined ? { since } : {}),
    ...(cursor !== null ? { after: decodeCursor(cursor) } : {}),
  };
}

/** A position as the opaque `cursor` a client sends back. */
export function encodeCursor(position: ListPosition): string {
  const text = JSON.stringify([position.acceptedAt, position.id]);
  return btoa(text).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function decodeCursor(cursor: string): ListPosition {
  try {
    const [acceptedAt, id] = JSON.parse(atob(cursor.replaceAll("-", "+").replaceAll("_", "/")));
    if (typeof acceptedAt === "number" && typeof id === "string" && id.length <= 100) return { acceptedAt, id };
  } catch {
    // refused below
  }
  throw new ImgserveError("BAD_PARAMETER", "cursor is not one this server gave: pass a page's next as it is");
}
