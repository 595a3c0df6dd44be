/**
 * `GET /jobs/<id>/outputs/<n>`: a finished output's bytes, read back from
 * its destination for the dashboard's preview. It is read as a source is:
 * the same file roots and network rules, bounded by --max-source-bytes and
 * the transfer timeouts, and behind the token like every data route.
 *
 * @module
 */
import type { Hono } from "hono";
import { ImgserveError } from "../../protocol/error_codes.ts";
import type { AppDeps } from "../app.ts";
import { contentTypeOf } from "../job/planner.ts";

/**
 * Adds the route; `n` counts the job's outputs from 0 in request order.
 *
 * @example
 * ```ts
 * outputRoute(app, deps); // GET /jobs/<id>/outputs/0
 * ```
 */
export function outputRoute(app: Hono, deps: Pick<AppDeps, "journal" | "runner">): void {
  app.get("/jobs/:id/outputs/:n", async (c) => {
    const id = c.req.param("id");
    const record = await deps.journal.get(id);
    if (!record) throw new ImgserveError("JOB_NOT_FOUND", `no job with id ${id.slice(0, 80)}`);
    const n = Number(c.req.param("n"));
    const output = Number.isInteger(n) ? record.outputs[n] : undefined;
    if (!output) {
      throw new ImgserveError("BAD_PARAMETER", `job ${record.id} has outputs 0 to ${record.outputs.length - 1}`);
    }
    if (output.state !== "done") {
      throw new ImgserveError("JOB_NOT_FOUND", `output ${n} of job ${record.id} is ${output.state}, not done`);
    }
    const body = await deps.runner.readOutput(new URL(output.dstURL));
    return c.body(body, 200, {
      "content-type": contentTypeOf(output.plan.format),
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
      "content-security-policy": "default-src 'none'",
    });
  });
}
