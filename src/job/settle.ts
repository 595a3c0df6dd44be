/**
 * What becomes of an output's destination when its job lets go of it:
 * the earlier file its placeholder kept aside is let go (done) or put
 * back (failed), and after a refused request the placeholder is taken
 * away again. The transport does each; this never throws: a failure is
 * logged, and the file stays under its hidden name.
 *
 * @module
 */
import { type JobContext, type TransferContext, transferOptions } from "./context.ts";
import { destinationOf, type Output, outputKey } from "./output.ts";

/** What settling needs: the transports, and the log its failures go to. */
type SettleContext = TransferContext & Pick<JobContext, "log">;

/** Deletes (done) or puts back (failed) the file an output's placeholder kept aside. */
export async function settle(
  ctx: SettleContext,
  id: string,
  output: Output,
  outcome: "done" | "failed",
): Promise<void> {
  const { dstURL } = destinationOf(output);
  const key = outputKey(id, output.index);
  try {
    await ctx.transports.settle(dstURL, key, outcome, transferOptions(ctx));
  } catch (err) {
    const what = outcome === "done" ? "delete" : "put back";
    ctx.log?.(`job ${key}: could not ${what} the destination's earlier file: ${(err as Error).message}`);
  }
}

/**
 * After a refused request, the output's destination as it was before: its
 * earlier file put back over the placeholder, or else the placeholder
 * removed if it is still there unchanged, where the transport can delete.
 */
export async function withdrawPlaceholder(ctx: SettleContext, id: string, output: Output): Promise<void> {
  if (output.kept) return await settle(ctx, id, output, "failed");
  if (!output.placeholder) return;
  try {
    await ctx.transports.withdraw(destinationOf(output).dstURL, output.placeholder, transferOptions(ctx));
  } catch (err) {
    const key = outputKey(id, output.index);
    ctx.log?.(`job ${key}: could not remove the placeholder of a refused request: ${(err as Error).message}`);
  }
}
