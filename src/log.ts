/**
 * The server log: a line per event an operator asks about (a job accepted,
 * done, failed, retried, taken over; a request refused), as plain text or,
 * with `--log-format json`, one JSON object per line for log shippers.
 * Other messages (start, stop, internal errors) are plain lines. No entry
 * carries a secret: URLs are reduced to their hosts, and credentials in
 * error messages are masked.
 *
 * @module
 */

/** `--log-format`. */
export type LogFormat = "text" | "json";

/** One event: its name (`job done`) and its fields, in the order they are written. */
export interface LogEvent {
  event: string;
  [field: string]: string | number | undefined;
}

/** What the log takes: a plain message, or an event. */
export type LogEntry = string | LogEvent;

/** Writes log entries. */
export type Log = (entry: LogEntry) => void;

function textValue(value: string | number): string {
  const text = String(value);
  return /^[^\s"=]+$/.test(text) ? text : JSON.stringify(text);
}

/**
 * One log line, without its line break: `<ISO time> <message>`, or
 * `<ISO time> <event> key=value ...` (values with spaces quoted); in JSON,
 * `{"time": …, "msg": …}` or `{"time": …, "event": …, …fields}`.
 *
 * @example
 * ```ts
 * formatLog("text", { event: "job done", id: "a1", size: 1200 }, new Date(0));
 * // 1970-01-01T00:00:00.000Z job done id=a1 size=1200
 * ```
 */
export function formatLog(format: LogFormat, entry: LogEntry, now: Date = new Date()): string {
  const time = now.toISOString();
  if (typeof entry === "string") return format === "json" ? JSON.stringify({ time, msg: entry }) : `${time} ${entry}`;
  const fields = Object.entries(entry).filter(([name, value]) => name !== "event" && value !== undefined) as [
    string,
    string | number,
  ][];
  if (format === "json") return JSON.stringify({ time, event: entry.event, ...Object.fromEntries(fields) });
  return [time, entry.event, ...fields.map(([name, value]) => `${name}=${textValue(value)}`)].join(" ");
}

/** The host a URL names (`file` for local files), never its user, password, path or query. */
export function hostOf(url: string): string {
  try {
    const parsed = new URL(url);
    return parsed.protocol === "file:" ? "file" : parsed.host;
  } catch {
    return "?";
  }
}

/** A message with the credentials of any URL in it masked (`ftp://user:***@host/`). */
export function maskCredentials(message: string): string {
  return message.replace(/\b([a-z][a-z0-9+.-]*:\/\/)([^/\s@]*)@/gi, (_, scheme: string, userinfo: string) => {
    const user = userinfo.split(":")[0];
    return `${scheme}${user}${userinfo.includes(":") ? ":***" : ""}@`;
  });
}
