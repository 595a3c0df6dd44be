/**
 * What a client is told about a job: the 202 reply, `GET /jobs/<id>` and
 * the callback's body. The `dstURL`+`args` form keeps its one-output
 * shape; the `outputs` form lists every output, in request order.
 *
 * @module
 */
import { type CallbackState, isFinished, type JobRecord, type OutputRecord } from "../journal/mod.ts";
import { maskCredentials } from "../log.ts";

/** The 202 reply once every placeholder is in place. */
export function replyBody(record: JobRecord): Record<string, unknown> {
  if (!record.request.multi) return { dstURL: record.outputs[0].dstURL, id: record.id };
  return {
    id: record.id,
    outputs: record.outputs.map(({ dstURL, width, height }) => ({ dstURL, width, height })),
  };
}

/**
 * The body of `GET /jobs/<id>`; the items of `GET /jobs` leave out the
 * per-stage times and the request (`withTimes` false).
 *
 * @example
 * ```ts
 * c.json(statusBody(await journal.get(id)));
 * ```
 */
export function statusBody(record: JobRecord, withTimes = true): Record<string, unknown> {
  const single = record.outputs[0];
  return {
    id: record.id,
    state: record.state,
    ...(record.request.multi ? {} : { dstURL: single.dstURL, width: single.width, height: single.height }),
    ...errorOf(record),
    attempts: record.attempts,
    acceptedAt: new Date(record.acceptedAt).toISOString(),
    ...(record.startedAt ? { startedAt: new Date(record.startedAt).toISOString() } : {}),
    ...(record.finishedAt ? { finishedAt: new Date(record.finishedAt).toISOString() } : {}),
    ...(record.retryAt && record.state === "queued" ? { retryAt: new Date(record.retryAt).toISOString() } : {}),
    ...(withTimes && !record.request.multi && single.times ? { times: single.times } : {}),
    ...(record.cancelRequested && !isFinished(record.state) ? { cancelRequested: true } : {}),
    ...(record.callback ? { callback: callbackStatus(record.callback) } : {}),
    ...(record.request.multi ? { outputs: record.outputs.map((output) => outputBody(output, withTimes)) } : {}),
    ...(withTimes ? { request: requestBody(record) } : {}),
  };
}

/** The request as posted, for the dashboard's detail; passwords in its URLs masked. */
function requestBody({ request }: JobRecord): Record<string, unknown> {
  return {
    operationType: request.operationType,
    srcURL: maskCredentials(request.srcURL),
    outputs: request.outputs.map(({ dstTemplate, args }) => ({ dstURL: maskCredentials(dstTemplate), args })),
    ...(request.callbackURL ? { callbackURL: maskCredentials(request.callbackURL) } : {}),
  };
}

/** The body POSTed to a job's callbackURL. */
export function callbackBody(record: JobRecord): Record<string, unknown> {
  if (record.request.multi) {
    return {
      id: record.id,
      state: record.state,
      ...errorOf(record),
      outputs: record.outputs.map((output) => outputBody(output, false)),
    };
  }
  const { dstURL, width, height } = record.outputs[0];
  return { id: record.id, state: record.state, dstURL, ...errorOf(record), width, height };
}

/** The callback's delivery, its next attempt's time as ISO like every other time. */
function callbackStatus({ nextAt, ...callback }: CallbackState): Record<string, unknown> {
  return { ...callback, ...(nextAt === undefined ? {} : { nextAt: new Date(nextAt).toISOString() }) };
}

function errorOf(record: JobRecord): Record<string, unknown> {
  return record.error ? { error: record.error.message, code: record.error.code } : {};
}

function outputBody(output: OutputRecord, withTimes: boolean): Record<string, unknown> {
  return {
    dstURL: output.dstURL,
    state: output.state,
    width: output.width,
    height: output.height,
    format: output.plan.format,
    ...(output.size !== undefined ? { size: output.size } : {}),
    ...(output.error ? { error: output.error.message, code: output.error.code } : {}),
    ...(withTimes && output.times ? { times: output.times } : {}),
  };
}
