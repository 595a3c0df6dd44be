/**
 * Whether a journal can be written, as its last write or probe found: the
 * first failure and the first success after it are logged, nothing in
 * between, and requests meanwhile are refused with JOURNAL_UNAVAILABLE.
 *
 * @module
 */
import { ImgserveError } from "../../protocol/error_codes.ts";

/** How a journal's outage reads in the log and the refusal. */
export interface OutageWords {
  /** "cannot be written" */
  down: string;
  /** "can be written again" */
  up: string;
  /** Said of running jobs in the first log line. */
  running: string;
}

/**
 * One journal's write health.
 *
 * @example
 * ```ts
 * const health = new JournalHealth("jobs.kv", console.log, words);
 * health.failed(err); // logs once
 * ```
 */
export class JournalHealth {
  #location: string;
  #log?: (line: string) => void;
  #words: OutageWords;
  #unwritable?: { reason: string; since: number; refused: number };

  constructor(location: string, log: ((line: string) => void) | undefined, words: OutageWords) {
    this.#location = location;
    this.#log = log;
    this.#words = words;
  }

  /** Whether the last write or probe failed. */
  get down(): boolean {
    return this.#unwritable !== undefined;
  }

  /** Notes a failed probe: logged when it is the first. */
  failed(err: unknown): void {
    if (this.#unwritable) {
      this.#unwritable.refused++;
      return;
    }
    const reason = (err as Error)?.message ?? String(err);
    this.#unwritable = { reason, since: Date.now(), refused: 1 };
    this.#log?.(
      `journal ${this.#location} ${this.#words.down} (${reason}): new jobs get 503 (code 509) until it can; ` +
        this.#words.running,
    );
  }

  /** Notes a write that worked: logged when it ends an outage. */
  ok(): void {
    if (!this.#unwritable) return;
    const { since, refused } = this.#unwritable;
    this.#unwritable = undefined;
    this.#log?.(
      `journal ${this.#location} ${this.#words.up} after ${((Date.now() - since) / 1000).toFixed(1)} s ` +
        `(${refused} failed writes meanwhile); taking jobs again`,
    );
  }

  /** Runs one small write; false, noting why, when it fails. */
  async probe(write: () => Promise<unknown>): Promise<boolean> {
    try {
      await write();
    } catch (err) {
      this.failed(err);
      return false;
    }
    this.ok();
    return true;
  }

  /** Throws the refusal while the journal is down and a probe still fails; free while writes work. */
  async assertWritable(write: () => Promise<unknown>): Promise<void> {
    if (this.down && !(await this.probe(write))) throw this.refusal();
  }

  /** The refusal of a request while the journal is down. */
  refusal(): ImgserveError {
    return new ImgserveError(
      "JOURNAL_UNAVAILABLE",
      `the server's job journal ${this.#words.down} (${this.#unwritable?.reason}); the job was not accepted and ` +
        "left nothing at its destinations: try again later",
    );
  }
}
