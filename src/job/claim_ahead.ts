/**
 * When a server on a shared journal claims a job ahead of a free worker:
 * the jobs announced (NOTIFY) while every worker was busy, and the wait
 * that keeps an idle server from being passed over.
 *
 * @module
 */
import type { Announcement } from "../journal/mod.ts";

/**
 * How long a job must have waited unowned on a shared journal before a
 * server with no free worker claims it ahead, to queue in its pool behind
 * a running task as the pool sends the next job ahead to a busy worker
 * (the freed worker then starts it at once, rather than after the claim's
 * round trip, the source and the plan: about 9 ms a job in the cluster
 * bench). An idle server, woken by the NOTIFY its INSERT sent, claims a
 * job within a few ms: one still unowned this long after means no server
 * is idle, so the busy one keeps no idle one waiting behind its running
 * task. The server that left the job waits this long, the others twice
 * as long, so two busy servers do not both ask for it.
 */
export const AHEAD_AFTER_MS = 30;

/** Jobs remembered at most: announcements of claims lost with a connection must not pile up. */
const REMEMBERED = 1000;

/**
 * The jobs announced while no worker was free and not known to be claimed
 * since, each with when it was heard of and when it may be claimed ahead
 * (performance.now()). An announcement without a job's id (a job handed
 * back, due again) counts as a job of its own. A claim's announcement
 * takes its job out, so a busy server asks for no job an idle one took.
 *
 * @example
 * ```ts
 * const ahead = new ClaimAhead(() => scan());
 * ahead.heard({ id, own: true }); // its NOTIFY, while every worker is busy
 * ahead.arm(); // scan() runs once it may be claimed ahead, unless its claim is announced first
 * ```
 */
export class ClaimAhead {
  #jobs = new Map<string, { heardAt: number; readyAt: number }>();
  #unnamed = 0;
  #timer?: ReturnType<typeof setTimeout>;
  #scan: () => void;

  /** `scan` claims jobs; it is called once a job heard of may be claimed ahead. */
  constructor(scan: () => void) {
    this.#scan = scan;
  }

  /** A job was announced while no worker was free. */
  heard(left: Announcement["left"], now: number = performance.now()): void {
    const key = left?.id ?? `announced ${this.#unnamed++}`;
    if (this.#jobs.has(key)) return;
    this.#jobs.set(key, { heardAt: now, readyAt: now + (left && !left.own ? 2 : 1) * AHEAD_AFTER_MS });
    if (this.#jobs.size > REMEMBERED) this.#jobs.delete(this.#jobs.keys().next().value!);
  }

  /** A server claimed job `id`: nobody waits for it any more. */
  claimed(id: string): void {
    this.#jobs.delete(id);
  }

  /** Whether a claim starting at `now` may take jobs ahead of a free worker. */
  due(now: number = performance.now()): boolean {
    for (const job of this.#jobs.values()) if (job.readyAt <= now) return true;
    return false;
  }

  /**
   * After a claim that started at `startedAt` (`ahead`: of jobs at least
   * AHEAD_AFTER_MS old) and got `ids`: with room left, every job heard of
   * before its cutoff was claimed, here or by another server whose
   * announcement is on its way; only those heard of since may wait.
   */
  settle(ids: readonly string[], startedAt: number, ahead: boolean, roomLeft: boolean): void {
    for (const id of ids) this.#jobs.delete(id);
    if (!roomLeft) return;
    const cutoff = startedAt - (ahead ? AHEAD_AFTER_MS : 0);
    for (const [key, job] of this.#jobs) if (job.heardAt <= cutoff) this.#jobs.delete(key);
  }

  /** Calls the scan once the first job heard of may be claimed ahead; the caller knows there is room. */
  arm(now: number = performance.now()): void {
    if (this.#timer !== undefined || this.#jobs.size === 0) return;
    let first = Infinity;
    for (const job of this.#jobs.values()) first = Math.min(first, job.readyAt);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#jobs.size > 0) this.#scan();
    }, Math.max(0, first - now));
  }

  /** Calls nothing more. */
  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
