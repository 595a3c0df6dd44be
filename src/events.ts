/**
 * `GET /events`: Server-Sent Events of job state changes and pool health.
 * The hub keeps the last events in a ring, so a client reconnecting with
 * `Last-Event-ID` gets what it missed; each client's unsent bytes are
 * bounded, and a client past its bound is disconnected, so a reader that
 * never reads cannot grow the server's memory. Job events come from this
 * server's own journal writes ({@linkcode observeJournal}): the jobs it
 * accepts, runs, cancels or retries.
 *
 * @module
 */
import type { JobRecord, Journal } from "./journal/mod.ts";

/** How the hub bounds itself. */
export interface EventHubOptions {
  /** Events kept for `Last-Event-ID` replays; default 1000. */
  ring?: number;
  /** Bytes queued for one client before it is disconnected; default 1 MiB. */
  clientBytes?: number;
  /** Pool health (and a keep-alive) this often while clients listen; default 15 s. */
  heartbeatMs?: number;
  /** The pool health each heartbeat sends. */
  health?: () => Record<string, unknown>;
}

interface Client {
  controller: ReadableStreamDefaultController<Uint8Array>;
}

const encoder = new TextEncoder();

/**
 * The events of this server, and the clients listening.
 *
 * @example
 * ```ts
 * const hub = new EventHub({ health: () => ({ busy: pool.busy }) });
 * return new Response(hub.stream(c.req.header("last-event-id")), { headers: SSE_HEADERS });
 * ```
 */
export class EventHub {
  #ring: { id: number; bytes: Uint8Array }[] = [];
  #next = 1;
  #clients = new Set<Client>();
  #heartbeat?: ReturnType<typeof setInterval>;
  #options: Required<Omit<EventHubOptions, "health">> & Pick<EventHubOptions, "health">;
  /** Clients disconnected for reading too slowly. */
  dropped = 0;
  /** The most bytes ever queued for one client. */
  maxQueued = 0;

  constructor(options: EventHubOptions = {}) {
    this.#options = { ring: 1000, clientBytes: 1 << 20, heartbeatMs: 15_000, ...options };
  }

  /** Clients listening now. */
  get clients(): number {
    return this.#clients.size;
  }

  /** Sends an event to every client and keeps it for replays. */
  publish(type: string, data: Record<string, unknown>): void {
    const id = this.#next++;
    const bytes = encoder.encode(`id: ${id}\nevent: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
    this.#ring.push({ id, bytes });
    if (this.#ring.length > this.#options.ring) this.#ring.shift();
    for (const client of this.#clients) this.#send(client, bytes);
  }

  /** A client's stream: the kept events after `lastEventId`, then every new one. */
  stream(lastEventId?: string): ReadableStream<Uint8Array> {
    let client!: Client;
    const after = Number(lastEventId ?? "");
    return new ReadableStream<Uint8Array>({
      start: (controller) => {
        client = { controller };
        this.#clients.add(client);
        controller.enqueue(encoder.encode(`retry: 1000\n\n`));
        if (Number.isInteger(after) && lastEventId !== undefined) {
          for (const event of this.#ring) if (event.id > after) this.#send(client, event.bytes);
        }
        this.#heartbeat ??= setInterval(() => this.#beat(), this.#options.heartbeatMs);
      },
      cancel: () => this.#remove(client),
    }, new ByteLengthQueuingStrategy({ highWaterMark: this.#options.clientBytes }));
  }

  /** Ends every stream (at shutdown). */
  close(): void {
    for (const client of this.#clients) {
      try {
        client.controller.close();
      } catch {
        // errored already
      }
      this.#remove(client);
    }
  }

  #send(client: Client, bytes: Uint8Array): void {
    const { controller } = client;
    const queued = this.#options.clientBytes - (controller.desiredSize ?? 0);
    if (queued + bytes.byteLength > this.#options.clientBytes) {
      this.dropped++;
      controller.error(new Error("the client reads events too slowly"));
      this.#remove(client);
      return;
    }
    controller.enqueue(bytes);
    this.maxQueued = Math.max(this.maxQueued, queued + bytes.byteLength);
  }

  #remove(client: Client): void {
    this.#clients.delete(client);
    if (this.#clients.size === 0) {
      clearInterval(this.#heartbeat);
      this.#heartbeat = undefined;
    }
  }

  #beat(): void {
    const bytes = encoder.encode(`event: pool\ndata: ${JSON.stringify(this.#options.health?.() ?? {})}\n\n`);
    for (const client of this.#clients) this.#send(client, bytes);
  }
}

/** The headers of an event stream. */
export const SSE_HEADERS = { "content-type": "text/event-stream", "cache-control": "no-store" };

/** What became of a job by a write's patch, as an event name; none for a lease renewal and the like. */
function eventOf(patch: Partial<JobRecord>): string | undefined {
  if (patch.state) return patch.state === "queued" && patch.retryAt ? "retry scheduled" : patch.state;
  if (patch.outputs) return "output done";
  return undefined;
}

/**
 * The journal, with every job change this server writes published to
 * `hub`: accepted, running, output done, retry scheduled, done, failed,
 * cancelled, cancel requested, retried.
 *
 * @example
 * ```ts
 * const journal = observeJournal(await openJournal(location, options), hub);
 * ```
 */
export function observeJournal(journal: Journal, hub: EventHub): Journal {
  const job = (event: string, id: string, state?: string) =>
    hub.publish("job", { event, id, ...(state ? { state } : {}), at: new Date().toISOString() });
  const wrapped: Partial<Journal> = {
    async put(record) {
      await journal.put(record);
      job("accepted", record.id, record.state);
    },
    async update(id, owner, patch) {
      const changed = await journal.update(id, owner, patch);
      const event = changed ? eventOf(patch) : undefined;
      if (event) job(event, id, patch.state);
      return changed;
    },
    async requestCancel(id) {
      const record = await journal.requestCancel(id);
      if (record?.cancelRequested) job("cancel requested", id, record.state);
      return record;
    },
    async reopen(id, patch) {
      const record = await journal.reopen(id, patch);
      if (record?.state === "queued") job("retried", id, record.state);
      return record;
    },
  };
  return new Proxy(journal, {
    get(target, name) {
      if (Object.hasOwn(wrapped, name)) return wrapped[name as keyof Journal];
      const value = Reflect.get(target, name);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
