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
import { acceptedSource } from "../source.ts";
import type { Admission } from "./job.ts";

/** Plans the job's output: its size, crop and format. */
export function plan(ctx: JobContext, job: Admission): void {
  const { limits } = ctx.config;
  const { request } = job;
  const header = job.header!;
  const { dstTemplate, args } = request;
  const planned = planJob({ ...request, args }, header, limits.maxSide, limits.maxResultPixels);
  if (header.format === "svg") {
    const size = { width: planned.width, height: planned.height, svgWidth: header.width };
    assertRenderCost(job.download!.prefix[0], size, limits.maxSourcePixels);
  }
  job.outputs.push({ dstTemplate, args, plan: planned, kept: false });
}

/** Decides, once, whether a worker reads the source itself or the server downloads it. */
export async function chooseSource(ctx: JobContext, job: Admission): Promise<void> {
  // One source serves every output, so any output's plan says whether it is a resize.
  job.source = await acceptedSource(ctx, job.request.srcURL, job.outputs[0].plan, job.download!);
}
