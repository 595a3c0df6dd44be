/**
 * A job's log line: what an operator needs to answer "what failed in the
 * last hour", with hosts in place of URLs.
 *
 * @module
 */
import { hostOf, type LogEvent, maskCredentials } from "../log.ts";
import type { JobRecord } from "../journal/mod.ts";

const iso = (ms: number | undefined) => ms === undefined ? undefined : new Date(ms).toISOString();

/**
 * The event for `record` (`job done`, `job failed`, `job retried`, `job
 * taken over`, `job accepted`): id, operation, source and destination
 * hosts, result bytes, times, and the code and message of its error.
 */
export function jobEvent(event: string, record: JobRecord, extra: Partial<LogEvent> = {}): LogEvent {
  const sizes = record.outputs.map((output) => output.size).filter((size) => size !== undefined);
  const end = record.finishedAt;
  return {
    event,
    id: record.id,
    op: record.request.operationType,
    src: hostOf(record.request.srcURL),
    dst: [...new Set(record.outputs.map((output) => hostOf(output.dstURL)))].join(","),
    outputs: record.outputs.length,
    size: sizes.length ? sizes.reduce((sum, size) => sum + size, 0) : undefined,
    attempt: record.attempts,
    accepted: iso(record.acceptedAt),
    started: iso(record.startedAt),
    finished: iso(end),
    ms: end === undefined ? undefined : end - record.acceptedAt,
    code: record.error?.code,
    error: record.error ? maskCredentials(record.error.message) : undefined,
    ...extra,
  };
}
