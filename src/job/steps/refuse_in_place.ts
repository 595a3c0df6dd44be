/**
 * The accept step that refuses a job whose destination is its own source
 * (the same path, a symlink or hard link to it, the same FTP file, one URL
 * read by GET and written by PUT): its placeholder would replace the photo
 * before the photo was read. The transports say what is the same resource.
 *
 * In-place jobs are refused rather than run from a kept copy: the
 * placeholder is written before the reply, so running them would mean
 * storing every in-place source beside the journal for the life of the
 * job (and of every retry), while a client can get the same result by
 * naming another dstURL and renaming it afterwards.
 *
 * @module
 */
import { ImgserveError } from "../../../protocol/error_codes.ts";
import { maskCredentials } from "../../log.ts";
import type { JobContext } from "../context.ts";
import { destinationOf, type Output } from "../output.ts";
import type { Admission } from "./job.ts";

/** Refuses an output that would overwrite the source. */
export function refuseInPlace(ctx: JobContext, job: Admission, output: Output): void {
  const { srcURL } = job.request;
  const { dstURL } = destinationOf(output);
  if (ctx.transports.identity(srcURL, "source") !== ctx.transports.identity(dstURL, "destination")) return;
  throw new ImgserveError(
    "IN_PLACE_REFUSED",
    `the destination ${maskCredentials(dstURL.href)} is the source itself; ` +
      "imgserve does not resize in place: write to another name",
  );
}
