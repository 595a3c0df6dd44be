/**
 * FTP control-connection replies (RFC 959 §4.2): one line `123 text`, or
 * several lines opened by `123-text` and closed by a line starting `123 `.
 *
 * @module
 */

/** One complete reply from the server. */
export interface FtpReply {
  /** The three-digit reply code. */
  code: number;
  /** Every line of the reply, without CRLF. */
  lines: string[];
  /** The text of the reply, lines joined by spaces, codes stripped. */
  text: string;
}

/**
 * The reply classes of RFC 959 §4.2.1, from the code's first digit. 4xx is
 * "try again later" and 5xx is "this will not work".
 */
export type ReplyClass =
  | "preliminary"
  | "completion"
  | "intermediate"
  | "transient"
  | "permanent";

const classes: Record<string, ReplyClass> = {
  "1": "preliminary",
  "2": "completion",
  "3": "intermediate",
  "4": "transient",
  "5": "permanent",
};

/**
 * The class of a reply code.
 *
 * @example
 * ```ts
 * replyClass(550); // "permanent"
 * ```
 */
export function replyClass(code: number): ReplyClass {
  const cls = classes[String(code)[0]];
  if (!cls || code < 100 || code > 599) {
    throw new RangeError(`not an FTP reply code: ${code}`);
  }
  return cls;
}

/** The reply as one line for error messages, e.g. `550 No such file`. */
export function describeReply(reply: FtpReply): string {
  return `${reply.code} ${reply.text}`.trim();
}

const firstLine = /^(\d{3})([ -])(.*)$/;

/**
 * Most characters (CRLFs counted) one reply may hold, however many lines it
 * has: a greeting, FEAT or HELP of a few KiB is common, and more is a server
 * trying to fill our memory.
 */
export const MAX_REPLY_CHARS = 64 * 1024;

/** A multi-line reply grew past {@linkcode MAX_REPLY_CHARS}. */
export class ReplyTooLong extends Error {
  /** The code of the reply that grew too long. */
  readonly code: number;

  constructor(code: number) {
    super(`a ${code} reply over ${MAX_REPLY_CHARS} characters`);
    this.code = code;
  }
}

/**
 * Turns control-connection lines into replies. Lines inside a multi-line
 * reply that happen to start with digits do not end it unless they carry
 * the opening code followed by a space, as RFC 959 demands.
 *
 * @example
 * ```ts
 * const parser = new ReplyParser();
 * parser.push("211-Features:"); // undefined
 * parser.push("211 End");       // { code: 211, ... }
 * ```
 */
export class ReplyParser {
  #code = 0;
  #lines: string[] = [];
  #texts: string[] = [];
  #size = 0;

  /**
   * Feeds one line (without CRLF); returns the reply it completes, if any.
   * Throws a SyntaxError on a line that cannot start a reply, and
   * {@linkcode ReplyTooLong} once the reply outgrows its cap.
   */
  push(line: string): FtpReply | undefined {
    if (this.#code === 0) {
      const m = firstLine.exec(line);
      if (!m) {
        throw new SyntaxError(
          `malformed FTP reply line: ${JSON.stringify(line)}`,
        );
      }
      const code = Number(m[1]);
      replyClass(code);
      if (m[2] === " ") return { code, lines: [line], text: m[3].trim() };
      this.#code = code;
      this.#lines = [line];
      this.#texts = [m[3].trim()];
      this.#size = line.length + 2;
      return undefined;
    }
    this.#size += line.length + 2;
    if (this.#size > MAX_REPLY_CHARS) {
      const code = this.#code;
      this.#code = 0;
      this.#lines = [];
      this.#texts = [];
      throw new ReplyTooLong(code);
    }
    this.#lines.push(line);
    const end = `${this.#code} `;
    if (line.startsWith(end) || line === String(this.#code)) {
      this.#texts.push(line.slice(4).trim());
      const reply = {
        code: this.#code,
        lines: this.#lines,
        text: this.#texts.filter((t) => t !== "").join(" "),
      };
      this.#code = 0;
      return reply;
    }
    // Inner lines may repeat the code with a dash (common in FEAT/HELP).
    const inner = line.startsWith(`${this.#code}-`) ? line.slice(4) : line;
    this.#texts.push(inner.trim());
    return undefined;
  }

  /** Whether a multi-line reply has started and not yet ended. */
  get pending(): boolean {
    return this.#code !== 0;
  }
}

/**
 * Splits bytes into CRLF- (or LF-) terminated lines. Bytes are decoded as
 * UTF-8 (RFC 2640) with invalid sequences replaced, since reply text is only
 * shown to people.
 */
export class LineSplitter {
  #decoder = new TextDecoder();
  #rest = "";

  /** Feeds bytes; returns the complete lines they finish. */
  push(bytes: Uint8Array): string[] {
    this.#rest += this.#decoder.decode(bytes, { stream: true });
    const parts = this.#rest.split("\n");
    this.#rest = parts.pop() ?? "";
    return parts.map((l) => l.endsWith("\r") ? l.slice(0, -1) : l);
  }

  /** How many characters of an unfinished line are buffered. */
  get buffered(): number {
    return this.#rest.length;
  }
}
