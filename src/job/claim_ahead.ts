/**
 * When a server on a shared journal claims a job ahead of a free worker:
 * the announcements (NOTIFY) it heard while every worker was busy, and the
 * wait that keeps an idle server from being passed over.
 *
 * @module
 */

/**
 * How long a job must have waited unowned on a shared journal before a
 * server with no free worker claims it ahead, to queue in its pool behind
 * a running task as the pool sends the next job ahead to a busy worker
 * (the freed worker then starts it at once, rather than after the claim's
 * round trip, the source and the plan: about 9 ms a job in the cluster
 * bench). An idle server, woken by the NOTIFY its INSERT sent, claims a
 * job within a few ms: one still unowned this long after means no server
 * is idle, so the busy one keeps no idle one waiting behind its running
 * task.
 */
export const AHEAD_AFTER_MS = 30;

/**
 * The jobs announced while no worker was free, as two times: since when
 * one may wait unowned, and the last announcement (performance.now()). A
 * claim ahead waits for the first to be {@linkcode AHEAD_AFTER_MS} old;
 * every claim that asks for jobs takes the times in hand and settles them
 * by what it got, so an announcement during the claim is never lost.
 *
 * @example
 * ```ts
 * const ahead = new ClaimAhead(() => scan());
 * ahead.heard();            // a NOTIFY while every worker is busy
 * ahead.arm();              // scan() runs once the job may be claimed ahead
 * ```
 */
export class ClaimAhead {
  #since?: number;
  #last = -Infinity;
  #timer?: ReturnType<typeof setTimeout>;
  #scan: () => void;

  /** `scan` claims jobs; it is called once a job heard of may be claimed ahead. */
  constructor(scan: () => void) {
    this.#scan = scan;
  }

  /** A job was announced while no worker was free. */
  heard(now: number = performance.now()): void {
    this.#last = now;
    this.#since ??= now;
  }

  /** Whether a claim starting at `now` may take jobs ahead of a free worker. */
  due(now: number = performance.now()): boolean {
    return this.#since !== undefined && now >= this.#since + AHEAD_AFTER_MS;
  }

  /** Takes the waiting time in hand for a claim that asks for jobs; give it back to {@linkcode settle}. */
  take(): number | undefined {
    const since = this.#since;
    this.#since = undefined;
    return since;
  }

  /**
   * After a claim that started at `startedAt` (`ahead`: only jobs that had
   * waited AHEAD_AFTER_MS): with room left, every job due by its cutoff was
   * claimed, and only those announced since may wait; with none left, the
   * oldest may still wait (after a claim ahead, only if more than the one
   * job was announced), and the next slot to free claims it.
   */
  settle(since: number | undefined, startedAt: number, ahead: boolean, roomLeft: boolean): void {
    let waiting = since;
    if (roomLeft) waiting = this.#last >= startedAt - (ahead ? AHEAD_AFTER_MS : 0) ? this.#last : undefined;
    else if (ahead && !(this.#last > since!)) waiting = undefined;
    if (waiting !== undefined) this.#since = Math.min(this.#since ?? Infinity, waiting);
  }

  /** Calls the scan once the job waiting longest may be claimed ahead; the caller knows there is room. */
  arm(): void {
    const since = this.#since;
    if (this.#timer !== undefined || since === undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#since !== undefined) this.#scan();
    }, Math.max(0, since + AHEAD_AFTER_MS - performance.now()));
  }

  /** Calls nothing more. */
  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
