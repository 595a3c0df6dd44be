/**
 * The list of jobs from the KV journal's indexes: which key ranges to
 * read for a query, and one page merged from them, newest first.
 *
 * @module
 */
import type { JobRecord } from "./record.ts";
import type { JobPage, ListPosition, ListQuery } from "./mod.ts";

/**
 * The key range of each index prefix (keys end in accepted time, id) that
 * a query covers: from `since` up to, not including, the cursor's job.
 *
 * @example
 * ```ts
 * listSelectors([["accepted"]], { limit: 50, since: 0 }); // [{ prefix: ["accepted"], start: ["accepted", 0] }]
 * ```
 */
export function listSelectors(prefixes: Deno.KvKey[], query: ListQuery): Deno.KvListSelector[] {
  return prefixes.map((prefix) => {
    const start = query.since === undefined ? undefined : [...prefix, query.since];
    const end = query.after ? [...prefix, query.after.acceptedAt, query.after.id] : undefined;
    if (start && end) return { start, end };
    if (start) return { prefix, start };
    if (end) return { prefix, end };
    return { prefix };
  });
}

/** Newest first: by accepted time, then by id. */
function newerFirst(a: ListPosition, b: ListPosition): number {
  return b.acceptedAt - a.acceptedAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}

/**
 * One page from index lists read newest first, `limit + 1` keys each (one
 * more tells whether a next page exists); the records are read by id, and
 * one gone meanwhile, or no longer in an asked-for state, is left out.
 */
export async function listPage(
  lists: Deno.KvListIterator<boolean>[],
  query: ListQuery,
  getMany: (ids: string[]) => Promise<(JobRecord | undefined)[]>,
): Promise<JobPage> {
  const positions: ListPosition[] = [];
  for (const list of lists) {
    for await (const { key } of list) positions.push({ acceptedAt: key.at(-2) as number, id: key.at(-1) as string });
  }
  positions.sort(newerFirst);
  const page = positions.slice(0, query.limit);
  const records = (await getMany(page.map((position) => position.id)))
    .filter((record): record is JobRecord => !!record && (!query.states || query.states.includes(record.state)));
  return { records, ...(positions.length > query.limit ? { next: page.at(-1) } : {}) };
}
