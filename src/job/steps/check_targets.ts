/**
 * The accept step before the source is touched: every URL of the job must
 * have a transport, and a callback must go where the server may send it.
 *
 * @module
 */
import { type ErrorName, ImgserveError } from "../../../protocol/error_codes.ts";
import { type AddressGuard, openGuard } from "../../transport/mod.ts";
import type { JobContext } from "../context.ts";
import { withTagsStoodIn } from "../template.ts";
import { atOutput } from "../request.ts";
import { type Admission, placeOf } from "./job.ts";

/** Refuses a scheme no transport serves, and a callbackURL the network rules forbid. */
export async function checkTargets(ctx: JobContext, job: Admission): Promise<void> {
  const { request } = job;
  ctx.transports.check(request.srcURL);
  for (const [i, output] of request.outputs.entries()) {
    atOutput(placeOf(request, i), () => ctx.transports.check(new URL(withTagsStoodIn(output.dstTemplate))));
  }
  // Checked now, so a callback the server would never be allowed to send is refused with the job.
  if (request.callbackURL) await checkCallbackHost(request.callbackURL, ctx.guard ?? openGuard);
}

/** The network rules of any destination, applied to a callbackURL's host. */
async function checkCallbackHost(url: URL, guard: AddressGuard): Promise<void> {
  try {
    await guard.resolve(url.hostname);
  } catch (err) {
    if (err instanceof ImgserveError) throw new ImgserveError(err.name as ErrorName, `callbackURL: ${err.message}`);
    throw err;
  }
}
