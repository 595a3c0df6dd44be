/**
 * Job request bodies and posting them: the one place tests write what a
 * client sends to `POST /`.
 *
 * @module
 */
import { pollUntil } from "./poll.ts";

/** A job request body as a client sends it. */
export interface JobBody {
  operationType: "resize" | "rasterize";
  srcURL: string;
  dstURL: string;
  args: Record<string, unknown>;
  callbackURL?: string;
}

/** A job of `operationType` from `srcURL` to `dstURL` with `args`. */
export function jobBody(
  operationType: JobBody["operationType"],
  srcURL: string,
  dstURL: string,
  args: Record<string, unknown> = {},
): JobBody {
  return { operationType, srcURL, dstURL, args };
}

/**
 * A resize job from `srcURL` to `dstURL` with `args` (width, height, mode,
 * format, quality, lossless, field_name).
 *
 * @example
 * ```ts
 * await imgserve.post(resizeJob(`file://${dir}/a.png`, `file://${dir}/b.png`, { width: 90, height: 60 }));
 * ```
 */
export function resizeJob(srcURL: string, dstURL: string, args: Record<string, unknown> = {}): JobBody {
  return jobBody("resize", srcURL, dstURL, args);
}

/** A rasterize job from an SVG at `srcURL` to `dstURL`; see {@linkcode resizeJob}. */
export function rasterizeJob(srcURL: string, dstURL: string, args: Record<string, unknown> = {}): JobBody {
  return jobBody("rasterize", srcURL, dstURL, args);
}

/** A server's reply to a posted job. */
export interface JobReply {
  status: number;
  json: Record<string, unknown>;
  headers: Headers;
}

/** Something to send requests to: a server's base URL, or an app's `request` (Hono's `app.request()`). */
export type JobTarget = string | { request(path: string, init: RequestInit): Response | Promise<Response> };

/**
 * POSTs `body` (an object, sent as JSON, or a raw string) to `target` with
 * `content-type: application/json`, plus `headers`.
 *
 * @example
 * ```ts
 * const { status, json } = await postJob(server.base, resizeJob(src, dst, { width: 10 }));
 * ```
 */
export async function postJob(
  target: JobTarget,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<JobReply> {
  const init = {
    method: "POST",
    body: typeof body === "string" ? body : JSON.stringify(body),
    headers: { "content-type": "application/json", ...headers },
  };
  const response = typeof target === "string" ? await fetch(`${target}/`, init) : await target.request("/", init);
  return { status: response.status, json: await response.json(), headers: response.headers };
}

/** GET /jobs/:id on the server at `base`. */
export async function jobState(
  base: string,
  id: string,
  headers: Record<string, string> = {},
): Promise<Record<string, unknown>> {
  return await (await fetch(`${base}/jobs/${id}`, { headers })).json();
}

/** Polls GET /jobs/:id until the job is done or failed; fails the test after `timeoutMs`. */
export async function waitFinished(
  base: string,
  id: string,
  timeoutMs = 60_000,
  headers: Record<string, string> = {},
): Promise<Record<string, unknown>> {
  let last: Record<string, unknown> = {};
  return await pollUntil(async () => {
    last = await jobState(base, id, headers);
    return (last.state === "done" || last.state === "failed") && last;
  }, { timeoutMs, message: () => `job ${id} finished (last seen ${JSON.stringify(last)})` });
}
