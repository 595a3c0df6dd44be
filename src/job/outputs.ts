/**
 * Rules about a job's several outputs that hold whatever runs them: the
 * names their files carry, destinations they may not share, and what a
 * job whose outputs partly failed reports.
 *
 * @module
 */
import { ImgserveError } from "../errors.ts";
import type { TransportTable } from "../transport/mod.ts";
import type { OutputRecord, StoredError } from "../journal/mod.ts";
import { resourceKey } from "./originals.ts";

/**
 * The id an output's own files carry (temporary and kept names, see
 * transport/keep.ts): the job's id for the first output, as jobs of one
 * output always had, and `<id>.<index>` for the others, so outputs written
 * to one folder never take each other's names.
 *
 * @example
 * ```ts
 * outputKey("0b6…", 2); // "0b6….2"
 * ```
 */
export function outputKey(id: string, index: number): string {
  return index === 0 ? id : `${id}.${index}`;
}

/**
 * Refuses two outputs with one destination (tags filled in): the second
 * would overwrite the first, and its placeholder would be kept as the
 * first one's earlier file.
 */
export function refuseSharedDestinations(transports: TransportTable, destinations: URL[]): void {
  const seen = new Map<string, number>();
  for (const [i, url] of destinations.entries()) {
    const key = resourceKey(transports.for(url), url, "destination");
    const first = seen.get(key);
    if (first !== undefined) {
      throw new ImgserveError(
        "DUPLICATE_DESTINATION",
        `outputs[${i}].dstURL names the same destination as outputs[${first}] once its tags are filled in; ` +
          "each output needs its own",
      );
    }
    seen.set(key, i);
  }
}

/** Longest job error message listing its failed outputs. */
const MAX_SUMMARY = 1000;

/**
 * The error a finished job reports, undefined when every output is done.
 * One output: its own error. Several: PARTLY_DONE when some are done,
 * else `whole` (the attempt's own failure) or the first output's error.
 *
 * @example
 * ```ts
 * jobError(outputs, true)?.code; // 120 when outputs[1] failed and the others are done
 * ```
 */
export function jobError(outputs: OutputRecord[], multi: boolean, whole?: ImgserveError): StoredError | undefined {
  const failed = outputs.flatMap((output, i) => output.state === "done" ? [] : [{ i, error: output.error }]);
  if (failed.length === 0) return undefined;
  const fallback = { code: whole?.code ?? 604, message: whole?.message ?? "the output was not made" };
  if (!multi) return failed[0].error ?? fallback;
  if (failed.length === outputs.length) {
    if (whole) return { code: whole.code, message: whole.message };
    const { i, error } = failed[0];
    return { code: error?.code ?? fallback.code, message: `outputs[${i}]: ${error?.message ?? fallback.message}` };
  }
  const list = failed.map(({ i, error }) => `outputs[${i}]: ${error?.message ?? fallback.message}`).join("; ");
  const message = `${failed.length} of ${outputs.length} outputs failed (the others are done): ${list}`;
  return {
    code: new ImgserveError("PARTLY_DONE", "").code,
    message: message.length > MAX_SUMMARY ? `${message.slice(0, MAX_SUMMARY - 1)}…` : message,
  };
}
