/**
 * The journal several servers share: jobs in one PostgreSQL table. Any
 * server accepts a job (the row commits before the client's 202) and
 * answers for any job. Free jobs are claimed with `FOR UPDATE SKIP
 * LOCKED`; each claim bumps the job's fencing token, and every write of a
 * job is conditional on the owner and token this server got, so a server
 * that lost its lease (paused, partitioned, too slow) changes nothing.
 * A job handed back (stop, retry) is announced with NOTIFY, so idle
 * servers claim it at once. The schema is created and migrated on start,
 * under an advisory lock.
 *
 * @module
 */
import postgres from "postgres";
import { JournalHealth } from "./health.ts";
import { maskCredentials } from "../log.ts";
import { isFinished, type JobRecord, type SingleOutputRecord, upgraded } from "./record.ts";
import type {
  Announcement,
  Claimed,
  IdempotencyEntry,
  JobPage,
  Journal,
  JournalOptions,
  KeptReply,
  ListQuery,
} from "./mod.ts";

type Sql = postgres.Sql;

/** Taken by the server migrating the schema, so servers starting at once migrate one after another. */
const MIGRATION_LOCK = 0x1a6_5e7e;
const CHANNEL = "imgserve_jobs";

/** The schema's versions, in order: a server applies those the database lacks, never changes an applied one. */
export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE imgserve_jobs (
     id text PRIMARY KEY,
     record jsonb NOT NULL,
     open boolean NOT NULL,
     due_at double precision NOT NULL DEFAULT 0,
     owner text,
     lease_until double precision,
     fence integer NOT NULL DEFAULT 0,
     accepted_at double precision NOT NULL,
     finished_at double precision
   )`,
  `CREATE INDEX imgserve_jobs_due ON imgserve_jobs (accepted_at) WHERE open;
   CREATE INDEX imgserve_jobs_finished ON imgserve_jobs (finished_at) WHERE NOT open`,
  // The list of jobs (newest first, by state), cancel requests, Idempotency-Keys. Rows an older server
  // writes meanwhile have no state: they are listed, but not under a state filter.
  `ALTER TABLE imgserve_jobs ADD COLUMN state text;
   UPDATE imgserve_jobs SET state = record->>'state';
   ALTER TABLE imgserve_jobs ADD COLUMN cancel_requested boolean NOT NULL DEFAULT false;
   CREATE INDEX imgserve_jobs_accepted ON imgserve_jobs (accepted_at, id);
   CREATE INDEX imgserve_jobs_state ON imgserve_jobs (state, accepted_at, id);
   CREATE TABLE imgserve_idempotency (
     key text PRIMARY KEY,
     digest text NOT NULL,
     reply jsonb,
     expires_at double precision NOT NULL
   )`,
];

/**
 * Brings the schema to `upTo` (default: the newest) under the advisory
 * lock; throws when the database is newer than this server knows.
 */
export async function migrate(sql: Sql, upTo = MIGRATIONS.length): Promise<number> {
  return await sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`;
    await tx`CREATE TABLE IF NOT EXISTS imgserve_schema (
      version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`;
    const [{ version }] = await tx`SELECT coalesce(max(version), 0)::int AS version FROM imgserve_schema`;
    if (version > MIGRATIONS.length) {
      throw new Error(`its schema is version ${version}, newer than this server's ${MIGRATIONS.length}: upgrade it`);
    }
    for (let v = version + 1; v <= upTo; v++) {
      await tx.unsafe(MIGRATIONS[v - 1]);
      await tx`INSERT INTO imgserve_schema (version) VALUES (${v})`;
    }
    return Math.max(version, upTo);
  }) as number;
}

/** The row's columns that follow from a record. */
function columns(record: JobRecord) {
  const finished = isFinished(record.state);
  const open = !finished || !!record.callback?.pending;
  return {
    state: record.state,
    open,
    due: finished ? record.callback?.nextAt ?? 0 : record.retryAt ?? 0,
    owner: open ? record.owner ?? null : null,
    leaseUntil: open ? record.leaseUntil ?? null : null,
    finishedAt: finished ? record.finishedAt ?? Date.now() : null,
  };
}

/**
 * Whether a query failed because the database could not be reached or did
 * not answer in time (the driver's and Node's connection errors, our time
 * bound; SQLSTATE classes 08 connection, 53 resources, 57 operator
 * intervention: shutdown, statement timeout), rather than for its own sake.
 */
export function lostConnection(err: unknown): boolean {
  const code = String((err as { code?: unknown })?.code ?? "");
  return /^(E[A-Z]+|CONNECTION_[A-Z]+|CONNECT_TIMEOUT|TIMEOUT)$/.test(code) || /^(08|53|57)[0-9A-Z]{3}$/.test(code);
}

interface Row {
  id: string;
  record: JobRecord | SingleOutputRecord;
  owner: string | null;
  lease_until: number | null;
  fence: number;
  cancel_requested?: boolean;
  was?: string | null;
}

/** The columns a record is read with. */
const ROW = "id, record, owner, lease_until, fence, cancel_requested";

function recordOf(row: Row): JobRecord {
  const { owner: _o, leaseUntil: _l, ...rest } = upgraded(row.record);
  return {
    ...rest,
    ...(row.owner ? { owner: row.owner, leaseUntil: row.lease_until ?? undefined } : {}),
    ...(row.cancel_requested ? { cancelRequested: true } : {}),
  };
}

/**
 * The PostgreSQL journal.
 *
 * @example
 * ```ts
 * await using journal = await PostgresJournal.open("postgres://imgserve@db/imgserve", { keepFinishedMs: 86_400_000 });
 * ```
 */
export class PostgresJournal implements Journal {
  readonly location: string;
  readonly shared = true;
  #sql: Sql;
  #keepFinishedMs: number;
  #timeoutMs: number;
  #log?: (line: string) => void;
  #health: JournalHealth;
  /** The record, owner and fencing token of each job this server holds: every write is conditional on them. */
  #held = new Map<string, { record: JobRecord; fence: number }>();
  #writing = new Map<string, Promise<void>>();
  #swept = 0;
  #listening?: Promise<unknown>;
  /** This server in the NOTIFY of a job it leaves unowned: a busy server claims its own left jobs ahead first. */
  readonly #self = crypto.randomUUID();

  private constructor(sql: Sql, location: string, options: JournalOptions) {
    this.#sql = sql;
    this.location = maskCredentials(location);
    this.#keepFinishedMs = options.keepFinishedMs;
    this.#timeoutMs = options.queryTimeoutMs ?? 5000;
    this.#log = options.log;
    this.#health = new JournalHealth(this.location, options.log, {
      down: "cannot be reached",
      up: "reached again",
      running: "running jobs keep their leases only while it answers",
    });
  }

  /** Connects, and creates or migrates the schema; throws when the database cannot be reached or set up. */
  static async open(location: string, options: JournalOptions): Promise<PostgresJournal> {
    const timeoutMs = options.queryTimeoutMs ?? 5000;
    const sql = postgres(location.replace(/^postgresql:/i, "postgres:"), {
      max: 4,
      connect_timeout: Math.ceil(timeoutMs / 1000),
      idle_timeout: 60,
      onnotice: () => {},
      connection: { statement_timeout: timeoutMs, application_name: "imgserve" },
      // The driver's default waits up to 20 s between connection attempts once several have failed, and queues
      // every query meanwhile: during an outage each request then hung until its timeout, and after it the
      // server took seconds to notice the database was back. Retrying at least every 250 ms costs nothing.
      backoff: (retries: number) => Math.min(0.02 * 2 ** retries, 0.25),
    });
    try {
      await migrate(sql);
    } catch (err) {
      await sql.end({ timeout: 1 }).catch(() => {});
      throw err;
    }
    return new PostgresJournal(sql, location, options);
  }

  /**
   * Runs a query bounded by the query timeout. When it fails, a probe tells
   * a database that cannot be reached (JOURNAL_UNAVAILABLE, logged once)
   * from a fault of this query alone (thrown as it is).
   */
  async #query<T>(run: (sql: Sql) => Promise<T>): Promise<T> {
    let result: T;
    try {
      result = await this.#bounded(run(this.#sql));
    } catch (err) {
      // A lost connection is an outage even when a probe just after it answers (the database came back, another
      // connection of the pool works): thrown as anything else, it failed the job it was written for.
      if (lostConnection(err)) {
        this.#health.failed(err);
        throw this.#health.refusal();
      }
      if (!(await this.#probe())) throw this.#health.refusal();
      throw err;
    }
    this.#health.ok();
    return result;
  }

  async #bounded<T>(work: Promise<T>): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(Object.assign(new Error(`no answer within ${this.#timeoutMs} ms`), { code: "TIMEOUT" })),
        this.#timeoutMs,
      );
    });
    try {
      return await Promise.race([work, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  #probe(): Promise<boolean> {
    return this.#health.probe(() => this.#bounded(this.#sql`SELECT 1`));
  }

  assertWritable(): Promise<void> {
    return this.#health.assertWritable(() => this.#bounded(this.#sql`SELECT 1`));
  }

  /**
   * One statement: a job left unowned is announced by the same round trip
   * (NOTIFY is sent at its commit), as `left <id> <server>`.
   */
  async put(record: JobRecord): Promise<void> {
    const c = columns(record);
    await this.#query((sql) =>
      sql`WITH job AS (INSERT INTO imgserve_jobs
          (id, record, state, open, due_at, owner, lease_until, fence, accepted_at, finished_at)
        VALUES (${record.id}, ${sql.json(record as never)}, ${c.state}, ${c.open}, ${c.due}, ${c.owner},
          ${c.leaseUntil}, 1, ${record.acceptedAt}, ${c.finishedAt}) RETURNING owner)
        SELECT pg_notify(${CHANNEL}, ${`left ${record.id} ${this.#self}`}) FROM job WHERE owner IS NULL`
    );
    if (c.owner) this.#held.set(record.id, { record, fence: 1 });
  }

  async get(id: string): Promise<JobRecord | undefined> {
    const rows = await this.#query((sql) => sql<Row[]>`SELECT ${sql.unsafe(ROW)} FROM imgserve_jobs WHERE id = ${id}`);
    return rows.length ? recordOf(rows[0]) : undefined;
  }

  /**
   * Claims due, free jobs in acceptance order, up to `hint` (at least one)
   * in one statement. A job another server accepted and left unowned
   * starts running in the same statement when its source needs no
   * download (a resize of a `file://` source, which a worker reads
   * itself): the worker that is free waits for one round trip, not two.
   * Its state stays `queued` while a source is still to be downloaded.
   * A job claimed while unowned is announced (`claimed <id>`, at the
   * claim's commit), so busy servers waiting to claim it ahead stop waiting.
   * With `freeForMs`, only jobs accepted, due and free (its lease lapsed)
   * that long ago: by this server's clock against the writer's, so the
   * servers' clocks must agree within a few ms (NTP), or the wait is
   * longer or shorter by their difference.
   */
  async *due(
    owner: string,
    leaseMs: number,
    busy: ReadonlyMap<string, unknown>,
    hint: number,
    freeForMs = 0,
  ): AsyncGenerator<Claimed> {
    const now = Date.now();
    const rows = await this.#query((sql) => {
      const waited = freeForMs > 0
        ? sql`AND greatest(accepted_at, due_at, coalesce(lease_until, 0)) <= ${now - freeForMs}`
        : sql``;
      return sql<(Row & { started: boolean })[]>`WITH c AS (
          SELECT id, owner AS was,
            owner IS NULL AND state = 'queued' AND NOT cancel_requested
              AND record->>'startedAt' IS NULL AND record->>'retryAt' IS NULL
              AND record->'request'->>'operationType' = 'resize'
              AND record->'request'->>'srcURL' LIKE 'file:%' AS start
          FROM imgserve_jobs
          WHERE open AND due_at <= ${now} AND (owner IS NULL OR lease_until < ${now})
            AND NOT (id = ANY(${[...busy.keys()]}::text[]))
            ${waited}
          ORDER BY accepted_at LIMIT ${Math.max(1, hint)}
          FOR UPDATE SKIP LOCKED),
        u AS (UPDATE imgserve_jobs j SET owner = ${owner}, lease_until = ${now + leaseMs}, fence = j.fence + 1,
          state = CASE WHEN c.start THEN 'running' ELSE j.state END,
          record = CASE WHEN c.start
            THEN j.record || jsonb_build_object('state', 'running', 'startedAt', ${now}::double precision)
            ELSE j.record END
        FROM c WHERE j.id = c.id
        RETURNING j.id, j.record, j.owner, j.lease_until, j.fence, j.cancel_requested, c.was, c.start AS started)
        SELECT u.*, CASE WHEN u.was IS NULL THEN pg_notify(${CHANNEL}, 'claimed ' || u.id) END AS told FROM u`;
    });
    for (const row of rows) {
      const record = recordOf(row);
      this.#held.set(record.id, { record, fence: row.fence });
      yield { record, from: row.was ?? undefined, ...(row.started ? { started: true } : {}) };
    }
  }

  update(id: string, owner: string, patch: Partial<JobRecord>): Promise<boolean> {
    // One write at a time per job: a heartbeat must not write back a record from before a step's change.
    const prior = this.#writing.get(id) ?? Promise.resolve();
    const write = prior.then(() => this.#update(id, owner, patch));
    const settled = write.then(() => {}, () => {});
    this.#writing.set(id, settled);
    settled.then(() => this.#writing.get(id) === settled && this.#writing.delete(id));
    return write;
  }

  async #update(id: string, owner: string, patch: Partial<JobRecord>): Promise<boolean> {
    let held = this.#held.get(id);
    if (!held) {
      const rows = await this.#query((sql) =>
        sql<
          Row[]
        >`SELECT ${sql.unsafe(ROW)} FROM imgserve_jobs WHERE id = ${id} AND owner = ${owner}`
      );
      if (!rows.length) return false;
      held = { record: recordOf(rows[0]), fence: rows[0].fence };
    }
    const next: JobRecord = { ...held.record, ...patch };
    const c = columns(next);
    // A cancel request is a column of its own, so this server's write of the record never undoes it.
    const rows = await this.#query((sql) =>
      sql<{ cancel_requested: boolean }[]>`UPDATE imgserve_jobs SET record = ${sql.json(next as never)},
          state = ${c.state}, open = ${c.open},
          due_at = CASE WHEN cancel_requested AND ${c.open} THEN 0 ELSE ${c.due}::double precision END,
          owner = ${c.owner}, lease_until = ${c.leaseUntil}, finished_at = ${c.finishedAt}
        WHERE id = ${id} AND owner = ${owner} AND fence = ${held.fence}
        RETURNING cancel_requested`
    );
    if (!rows.length) {
      this.#held.delete(id);
      return false;
    }
    if (rows[0].cancel_requested) next.cancelRequested = true;
    if (c.owner === owner) this.#held.set(id, { record: next, fence: held.fence });
    else {
      this.#held.delete(id);
      if (c.open) await this.#announce();
    }
    return true;
  }

  /** Asks the database: the owner and the fencing token must still be this server's. */
  async holds(id: string, owner: string): Promise<boolean> {
    const fence = this.#held.get(id)?.fence;
    if (fence === undefined) return false;
    const rows = await this.#query((sql) =>
      sql`SELECT 1 FROM imgserve_jobs WHERE id = ${id} AND owner = ${owner} AND fence = ${fence}`
    );
    return rows.length > 0;
  }

  /** Tells idle servers that a job is free to claim. */
  async #announce(): Promise<void> {
    await this.#query((sql) => sql`SELECT pg_notify(${CHANNEL}, '')`).catch(() => {});
  }

  async sweep(now = Date.now()): Promise<number> {
    if (now - this.#swept < 10_000) return 0;
    this.#swept = now;
    const rows = await this.#query((sql) =>
      sql`DELETE FROM imgserve_jobs WHERE NOT open AND finished_at < ${now - this.#keepFinishedMs} RETURNING id`
    );
    await this.#query((sql) => sql`DELETE FROM imgserve_idempotency WHERE expires_at < ${now}`);
    return rows.length;
  }

  healthy(): Promise<boolean> {
    return this.#probe();
  }

  watch(wake: (news: Announcement) => void): void {
    // The driver listens again by itself after a reconnect.
    this.#listening ??= this.#sql.listen(CHANNEL, (payload) => wake(this.#news(payload))).catch((err) =>
      this.#log?.(`journal ${this.location}: LISTEN failed (${(err as Error).message}); claiming by the scan only`)
    );
  }

  /** A NOTIFY's payload read; an empty one (or one an older server sent) says only that a job may be free. */
  #news(payload: string): Announcement {
    const [what, id, by] = payload.split(" ");
    if (what === "left" && id) return { left: { id, own: by === this.#self } };
    if (what === "claimed" && id) return { claimed: id };
    return {};
  }

  async queueDepth(): Promise<number> {
    const [{ n }] = await this.#query((sql) => sql`SELECT count(*)::int AS n FROM imgserve_jobs WHERE open`);
    return n as number;
  }

  /** Newest first along the (accepted_at, id) index, or the (state, accepted_at, id) one under a state filter. */
  async list(query: ListQuery): Promise<JobPage> {
    const { states, since, after, limit } = query;
    const rows = await this.#query((sql) =>
      sql<Row[]>`SELECT ${sql.unsafe(ROW)}, accepted_at FROM imgserve_jobs
        WHERE true
          ${states?.length ? sql`AND state = ANY(${states as string[]}::text[])` : sql``}
          ${since !== undefined ? sql`AND accepted_at >= ${since}` : sql``}
          ${after ? sql`AND (accepted_at, id) < (${after.acceptedAt}::double precision, ${after.id}::text)` : sql``}
        ORDER BY accepted_at DESC, id DESC
        LIMIT ${limit + 1}`
    );
    const records = rows.slice(0, limit).map(recordOf);
    const last = records.at(-1);
    return { records, ...(rows.length > limit && last ? { next: { acceptedAt: last.acceptedAt, id: last.id } } : {}) };
  }

  /** Sets the cancel column; a job nobody holds becomes due at once, and idle servers are told. */
  async requestCancel(id: string): Promise<JobRecord | undefined> {
    const rows = await this.#query((sql) =>
      sql<Row[]>`UPDATE imgserve_jobs SET cancel_requested = true, due_at = CASE WHEN open THEN 0 ELSE due_at END
        WHERE id = ${id} AND state NOT IN ('done', 'failed', 'cancelled')
        RETURNING ${sql.unsafe(ROW)}`
    );
    if (!rows.length) return await this.get(id);
    await this.#announce();
    return recordOf(rows[0]);
  }

  cancelRequested(id: string): boolean {
    return this.#held.get(id)?.record.cancelRequested === true;
  }

  async reopen(id: string, patch: Partial<JobRecord>): Promise<JobRecord | undefined> {
    const reopened = await this.#query((sql) =>
      sql.begin(async (tx) => {
        const [row] = await tx<Row[]>`SELECT ${tx.unsafe(ROW)} FROM imgserve_jobs WHERE id = ${id} FOR UPDATE`;
        if (!row) return undefined;
        const record = recordOf(row);
        if (record.state !== "failed" && record.state !== "cancelled") return { record, changed: false };
        const next: JobRecord = { ...record, ...patch, state: "queued", owner: undefined, leaseUntil: undefined };
        delete next.cancelRequested;
        await tx`UPDATE imgserve_jobs SET record = ${tx.json(next as never)}, state = 'queued', open = true,
            due_at = 0, owner = NULL, lease_until = NULL, finished_at = NULL, cancel_requested = false
          WHERE id = ${id}`;
        return { record: next, changed: true };
      }) as Promise<{ record: JobRecord; changed: boolean } | undefined>
    );
    if (reopened?.changed) await this.#announce();
    return reopened?.record;
  }

  /** One INSERT: the primary key makes simultaneous requests with one key bind it once. */
  async reserveKey(key: string, digest: string, ttlMs: number): Promise<IdempotencyEntry | undefined> {
    const now = Date.now();
    const taken = await this.#query((sql) =>
      sql`INSERT INTO imgserve_idempotency (key, digest, expires_at) VALUES (${key}, ${digest}, ${now + ttlMs})
        ON CONFLICT (key) DO UPDATE SET digest = EXCLUDED.digest, reply = NULL, expires_at = EXCLUDED.expires_at
          WHERE imgserve_idempotency.expires_at < ${now}
        RETURNING key`
    );
    if (taken.length) return undefined;
    const [row] = await this.#query((sql) =>
      sql<{ digest: string; reply: KeptReply | null }[]>`SELECT digest, reply FROM imgserve_idempotency
        WHERE key = ${key}`
    );
    // Freed between the two statements: the caller tries again as if it had lost the race.
    return row ? { digest: row.digest, ...(row.reply ? { reply: row.reply } : {}) } : { digest };
  }

  async completeKey(key: string, reply: KeptReply): Promise<void> {
    await this.#query((sql) =>
      sql`UPDATE imgserve_idempotency SET reply = ${sql.json(reply as never)} WHERE key = ${key}`
    );
  }

  async releaseKey(key: string): Promise<void> {
    await this.#query((sql) => sql`DELETE FROM imgserve_idempotency WHERE key = ${key}`);
  }

  async close(): Promise<void> {
    await this.#sql.end({ timeout: 2 });
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
