/**
 * The accept step that decides the work: a plan for each output from the
 * source's header, each checked against the limits on its own (an SVG's
 * render costed against the pixel limit).
 *
 * @module
 */
import { assertRenderCost } from "../../image/svg_cost.ts";
import type { JobContext } from "../context.ts";
import { planJob } from "../planner.ts";
import { assertFitsWorker } from "../../../protocol/plan_memory.ts";
import { atOutput } from "../request.ts";
import { type Admission, placeOf } from "./job.ts";

/** Plans each output: its size, crop and format, each checked against the limits on its own. */
export function planOutputs(ctx: JobContext, job: Admission): void {
  const { limits } = ctx.config;
  const { request } = job;
  const header = job.header!;
  for (const [index, { dstTemplate, args }] of request.outputs.entries()) {
    const planned = atOutput(placeOf(request, index), () => {
      const planned = planJob(
        { operationType: request.operationType, args, dstTemplate },
        header,
        limits.maxSide,
        limits.maxResultPixels,
        limits.maxAnimationPixels,
      );
      // Each output on its own: outputs are made one after another from the one decode, the largest output's.
      assertFitsWorker(planned, ctx.config.workerMemory, ctx.pool.fresh?.wasm ?? 0);
      if (header.format === "svg") {
        const size = { width: planned.width, height: planned.height, svgWidth: header.width };
        assertRenderCost(job.download!.prefix[0], size, limits.maxSourcePixels);
      }
      return planned;
    });
    job.outputs.push({ index, dstTemplate, args, plan: planned, kept: false, state: "pending" });
  }
}
