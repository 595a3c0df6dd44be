/**
 * The "Jobs" flags: where jobs are kept and how they are retried.
 *
 * @module
 */
import type { Flag } from "./flag.ts";

/** The "Jobs" section of the usage text, in its order. */
export const JOB_FLAGS = [
  {
    name: "data-dir",
    section: "jobs",
    kind: "string",
    arg: "DIR",
    default: (c) => c.stateDir ?? "/var/lib/imgserve",
    help: "where the job journal lives (default /var/lib/imgserve as\nroot, else ~/.imgserve)",
  },
  {
    name: "kv",
    section: "jobs",
    kind: "string",
    arg: "LOCATION",
    help: "Deno KV location for the journal instead (a file, a URL\nseveral servers share, or :memory:)",
  },
  {
    name: "journal",
    section: "jobs",
    kind: "string",
    arg: "URL",
    help: "PostgreSQL journal several servers share instead\n(postgres://USER:PASS@HOST:PORT/DB)",
  },
  {
    name: "lease-ms",
    to: "jobs.leaseMs",
    section: "jobs",
    kind: "int",
    arg: "N",
    default: 15_000,
    help: "a server's claim on a job lapses after this (default {default})",
  },
  {
    name: "max-attempts",
    to: "jobs.maxAttempts",
    section: "jobs",
    kind: "int",
    arg: "N",
    default: 5,
    help: "tries before a job with passing failures fails (default {default})",
  },
  {
    name: "retry-base-ms",
    to: "jobs.retryBaseMs",
    section: "jobs",
    kind: "int",
    arg: "N",
    default: 1000,
    help: "first retry delay, doubled each try (default {default})",
  },
  {
    name: "keep-finished-ms",
    to: "jobs.keepFinishedMs",
    section: "jobs",
    kind: "int",
    arg: "N",
    default: 24 * 3600 * 1000,
    help: "finished jobs stay readable this long (default {default})",
  },
  {
    name: "idempotency-ms",
    to: "jobs.idempotencyMs",
    section: "jobs",
    kind: "int",
    arg: "N",
    default: 24 * 3600 * 1000,
    help: "an Idempotency-Key answers its repeats this long (default {default})",
  },
  {
    name: "grace-ms",
    to: "jobs.graceMs",
    section: "jobs",
    kind: "int",
    arg: "N",
    default: 30_000,
    min: 0,
    help: "SIGTERM waits this long for running jobs (default {default})",
  },
] as const satisfies readonly Flag[];
