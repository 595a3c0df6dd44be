/**
 * What keeps a job from destroying what it was given: in-place jobs are
 * refused before anything is written, a retry that would read back this
 * job's own placeholder fails instead of shrinking it again, and the file
 * a placeholder replaced is deleted or put back once the job ends.
 *
 * In-place jobs are refused rather than run from a kept copy: the
 * placeholder is written before the reply, so running them would mean
 * storing every in-place source beside the journal for the life of the
 * job (and of every retry), while a client can get the same result by
 * naming another dstURL and renaming it afterwards.
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { TransferOptions, Transport, TransportTable } from "../transport/mod.ts";
import type { LocalSource } from "../../protocol/work.ts";
import { fileKey } from "../transport/file.ts";
import { ImgserveError } from "../../protocol/error_codes.ts";
import { readAtMost } from "../streams.ts";
import { maskCredentials } from "../log.ts";

/** The size and SHA-256 of the placeholder a job uploaded. */
export interface PlaceholderDigest {
  size: number;
  sha256: string;
}

/** In place: Web Crypto's digest hops to another thread, costing ten times the hash of a few KiB. */
function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** The digest of a placeholder, journaled with its job. */
export function digestOf(placeholder: Uint8Array): PlaceholderDigest {
  return { size: placeholder.byteLength, sha256: sha256(placeholder) };
}

/**
 * The key of a URL's resource for comparing a source with a destination:
 * the transport's own (a file's device and inode) or else the URL without
 * credentials, fragment, default port or scheme variant.
 */
export function resourceKey(transport: Transport, url: URL, role: "source" | "destination"): string {
  const own = transport.identity?.(url, role);
  if (own !== undefined) return own;
  let path = url.pathname;
  try {
    path = decodeURIComponent(path);
  } catch {
    // compared as spelled
  }
  // http: and https: of one host and path name the same resource on any sane server.
  const scheme = url.protocol === "https:" ? "http:" : url.protocol;
  return `${scheme}//${url.host}${path}${url.search}`;
}

/**
 * Refuses a job whose destination is its own source (the same path, a
 * symlink or hard link to it, the same FTP file, one URL read by GET and
 * written by PUT): its placeholder would replace the photo before the
 * photo was read. `local` is the source's own check, when it has one.
 */
export function refuseInPlace(transports: TransportTable, srcURL: URL, dstURL: URL, local?: LocalSource): void {
  const source = local ? fileKey(local) : resourceKey(transports.for(srcURL), srcURL, "source");
  if (source !== resourceKey(transports.for(dstURL), dstURL, "destination")) return;
  throw new ImgserveError(
    "IN_PLACE_REFUSED",
    `the destination ${maskCredentials(dstURL.href)} is the source itself; ` +
      "imgserve does not resize in place: write to another name",
  );
}

/**
 * Throws SOURCE_IS_PLACEHOLDER when what a retry read is this job's own
 * placeholder (the source was overwritten by it, under a name the in-place
 * check could not see through); hashes only when the size matches.
 */
export async function refusePlaceholder(
  source: Uint8Array | LocalSource,
  placeholder: PlaceholderDigest | undefined,
): Promise<void> {
  if (!placeholder) return;
  const size = source instanceof Uint8Array ? source.byteLength : source.size;
  if (size !== placeholder.size) return;
  let bytes: Uint8Array;
  if (source instanceof Uint8Array) bytes = source;
  else {
    try {
      bytes = await Deno.readFile(source.path);
    } catch {
      return; // the worker's own read reports it
    }
  }
  if (sha256(bytes) !== placeholder.sha256) return;
  throw new ImgserveError(
    "SOURCE_IS_PLACEHOLDER",
    "the source now holds this job's own placeholder (the destination is the source under another name); " +
      "the original is gone from there, so the job stops rather than shrink the placeholder",
  );
}

/**
 * Ends a job's hold on the destination's earlier file: deleted when the
 * job is done, put back when it failed. Never throws: a failure is logged
 * and the file stays under its hidden name.
 */
export async function settleKept(
  transports: TransportTable,
  dstURL: URL,
  job: string,
  outcome: "done" | "failed",
  options: TransferOptions,
  log?: (line: string) => void,
): Promise<void> {
  try {
    await transports.for(dstURL).settle?.(dstURL, job, outcome, options);
  } catch (err) {
    const what = outcome === "done" ? "delete" : "put back";
    log?.(`job ${job}: could not ${what} the destination's earlier file: ${(err as Error).message}`);
  }
}

/**
 * After a refused request: deletes the placeholder it wrote where no file
 * was, if the file there is still exactly that placeholder (read back and
 * compared). Transports that cannot delete (HTTP) leave it. Never throws:
 * a failure is logged and the placeholder stays.
 */
export async function removePlaceholder(
  transports: TransportTable,
  dstURL: URL,
  job: string,
  placeholder: PlaceholderDigest,
  options: TransferOptions,
  log?: (line: string) => void,
): Promise<void> {
  const transport = transports.for(dstURL);
  if (!transport.remove) return;
  try {
    const there = await readAtMost(await transport.read(dstURL, options), placeholder.size);
    if (there?.byteLength !== placeholder.size || sha256(there) !== placeholder.sha256) return;
    await transport.remove(dstURL, options);
  } catch (err) {
    log?.(`job ${job}: could not remove the placeholder of a refused request: ${(err as Error).message}`);
  }
}

/**
 * Before a job runs again (a retry, or taken over from a dead server):
 * removes the temporary files its earlier attempts left beside the
 * destination. Never throws.
 */
export async function cleanUpAfter(
  transports: TransportTable,
  dstURL: string,
  job: string,
  options: TransferOptions,
  log?: (line: string) => void,
): Promise<void> {
  try {
    const url = new URL(dstURL);
    await transports.for(url).cleanUp?.(url, job, options);
  } catch (err) {
    log?.(`job ${job}: could not remove earlier temporary files: ${(err as Error).message}`);
  }
}
