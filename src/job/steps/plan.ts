/**
 * Accept steps that decide the work: a plan for each output from the
 * source's header (an SVG's render costed against the pixel limit), and
 * where the source will come from when the job runs.
 *
 * @module
 */
import { assertRenderCost } from "../../image/svg_cost.ts";
import type { JobContext } from "../context.ts";
import { planJob } from "../plan.ts";
import { assertFitsWorker } from "../../../protocol/plan_memory.ts";
import { acceptedSource } from "../source.ts";
import { atOutput } from "../request.ts";
import { type Admission, placeOf } from "./job.ts";

/** Plans each output: its size, crop and format, each checked against the limits on its own. */
export function plan(ctx: JobContext, job: Admission): void {
  const { limits } = ctx.config;
  const { request } = job;
  const header = job.header!;
  for (const [index, { dstTemplate, args }] of request.outputs.entries()) {
    const planned = atOutput(placeOf(request, index), () => {
      const planned = planJob(
        { operationType: request.operationType, args },
        header,
        limits.maxSide,
        limits.maxResultPixels,
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

/** Decides, once, whether a worker reads the source itself or the server downloads it. */
export async function chooseSource(ctx: JobContext, job: Admission): Promise<void> {
  // One source serves every output, so any output's plan says whether it is a resize.
  job.source = await acceptedSource(ctx, job.request.srcURL, job.outputs[0].plan, job.download!);
}
