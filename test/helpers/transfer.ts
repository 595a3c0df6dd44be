/**
 * What the job's source and sink modules are given in a test: the real
 * transports, local files confined to one folder.
 */
import type { TransferContext } from "../../src/job/context.ts";
import type { Output } from "../../src/job/output.ts";
import { planJob } from "../../src/job/planner.ts";
import { parseJobRequest } from "../../src/job/request.ts";
import type { JobRequest } from "../../src/job/request.ts";
import { FileRoots } from "../../src/security/files.ts";
import { builtinTransports } from "../../src/transport/table.ts";
import { testConfig } from "./server.ts";

/** A transfer context whose file:// transport allows `root` only. */
export async function transferContext(root: string): Promise<TransferContext> {
  return {
    config: testConfig(["--file-root", root]),
    transports: builtinTransports(await FileRoots.resolve([root])),
    caCerts: [],
    scheduler: { signal: new AbortController().signal },
  };
}

/** A checked request to resize `srcURL` to 30x20 at `dstURL`. */
export function resizeRequest(srcURL: string, dstURL: string): JobRequest {
  return parseJobRequest({ operationType: "resize", srcURL, dstURL, args: { width: 30, height: 20 } }, 16384);
}

/** One output of a resize of a 60x40 PNG to 30x20 at `dstTemplate`, its tags not filled in yet. */
export function resizeOutput(dstTemplate: string): Output {
  const request = resizeRequest("http://127.0.0.1/a.png", dstTemplate);
  const header = { format: "png", width: 60, height: 40, orientation: 1, hasAlpha: false } as const;
  const { args } = request.outputs[0];
  const plan = planJob({ operationType: request.operationType, args }, header, 16384);
  return { index: 0, dstTemplate, args, plan, kept: false, state: "pending" };
}
