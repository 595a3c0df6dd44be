/** Job records as a journal stores them, for journal and scheduler tests that need no real job behind them. */
import type { JobRecord, JobState } from "../../src/journal/mod.ts";
import type { Plan } from "../../protocol/plan.ts";

/** The plan of a 1x1 PNG made from a 1x1 PNG. */
export const TINY_PLAN: Plan = {
  op: "resize",
  source: { format: "png", width: 1, height: 1, orientation: 1, hasAlpha: false },
  width: 1,
  height: 1,
  format: "png",
  quality: 80,
  mode: "cover",
  crop: { x: 0, y: 0, width: 1, height: 1 },
};

/**
 * A one-output job record: queued unless told, held by `owner` for a
 * minute when one is given, else free for any server to claim.
 */
export function jobRecord(
  id: string,
  options: { owner?: string; state?: JobState; acceptedAt?: number } = {},
): JobRecord {
  const { owner, state = "queued", acceptedAt = Date.now() } = options;
  return {
    id,
    state,
    outputs: [{ dstURL: `file:///tmp/${id}.png`, width: 1, height: 1, plan: TINY_PLAN, state: "pending" }],
    request: {
      operationType: "resize",
      srcURL: "file:///a.png",
      outputs: [{ dstTemplate: "file:///x.png", args: { mode: "cover", quality: 80 } }],
    },
    attempts: 1,
    acceptedAt,
    owner,
    leaseUntil: owner ? Date.now() + 60_000 : undefined,
    ...(state === "done" || state === "failed" ? { finishedAt: acceptedAt + 1 } : {}),
  };
}
