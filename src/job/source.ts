/**
 * Where a job's source comes from, decided once: a file on this machine,
 * which a worker reads itself (the server only checks it), or bytes the
 * server downloads and hands over. Steps use a {@linkcode JobSource}
 * without asking which it is.
 *
 * @module
 */
import type { LocalSource } from "../../protocol/work.ts";
import { ImgserveError } from "../../protocol/error_codes.ts";
import { type ContentDigest, readAll, sameContent } from "../transport/mod.ts";
import { downloadSource, type TransferContext, transferOptions } from "./context.ts";
import type { Plan } from "../../protocol/plan.ts";

/** A source download under way: the stream, and the chunks already read from it. */
export interface Download {
  stream: ReadableStream<Uint8Array>;
  prefix: Uint8Array[];
}

/** A job's source, as the pool takes it. */
export interface JobSource {
  /** The checked file, when a worker reads the source itself (its identity decides the in-place check). */
  readonly file?: LocalSource;
  /** False while bytes remain to be downloaded before the job can run. */
  readonly ready: boolean;
  /**
   * The source for the pool: the file, or the bytes (read from the open
   * download, else downloaded anew); refused when it is the job's own
   * placeholder read back.
   */
  take(placeholders?: ContentDigest[]): Promise<Uint8Array | LocalSource>;
  /** The source again, after a worker lost with it took the bytes along. */
  retake(placeholders?: ContentDigest[]): Promise<Uint8Array | LocalSource>;
}

/**
 * The checked local file a resize may hand to a worker as it is, or
 * undefined (a remote source, or an SVG, read whole at validation).
 * Throws what reading the source would (not found, outside the roots).
 * The PostgreSQL journal's claim repeats this rule in SQL (a resize of a
 * `file://` source starts running as it is claimed): change both together.
 */
function localFile(ctx: TransferContext, srcURL: URL, plan: Plan): LocalSource | undefined {
  if (plan.op !== "resize") return undefined;
  return ctx.transports.localSource(srcURL, transferOptions(ctx, ctx.config.limits.maxSourceBytes));
}

/**
 * Throws SOURCE_IS_PLACEHOLDER when what a retry read is this job's own
 * placeholder (the source was overwritten by it, under a name the in-place
 * check could not see through); a local file is read only when its size
 * matches.
 */
export async function refusePlaceholder(
  source: Uint8Array | LocalSource,
  placeholder: ContentDigest | undefined,
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
  if (!sameContent(bytes, placeholder)) return;
  throw new ImgserveError(
    "SOURCE_IS_PLACEHOLDER",
    "the source now holds this job's own placeholder (the destination is the source under another name); " +
      "the original is gone from there, so the job stops rather than shrink the placeholder",
  );
}

function fileSource(file: LocalSource): JobSource {
  return {
    file,
    ready: true,
    take: async (placeholders = []) => {
      for (const placeholder of placeholders) await refusePlaceholder(file, placeholder);
      return file;
    },
    retake: () => Promise.resolve(file),
  };
}

function downloadedSource(ctx: TransferContext, srcURL: URL, opened?: Download): JobSource {
  const download = async (from: Download | undefined, placeholders: ContentDigest[] = []) => {
    const bytes = await readAll(
      from?.stream ?? await downloadSource(ctx, srcURL),
      ctx.config.limits.maxSourceBytes,
      from?.prefix ?? [],
    );
    for (const placeholder of placeholders) await refusePlaceholder(bytes, placeholder);
    return bytes;
  };
  return {
    ready: false,
    take: (placeholders) => {
      const from = opened;
      opened = undefined; // read once; a second take downloads anew
      return download(from, placeholders);
    },
    retake: (placeholders) => download(undefined, placeholders),
  };
}

/**
 * The source of a job being accepted, whose download is open: a local
 * file lets go of the download at once, since the worker reads the file.
 */
export async function acceptedSource(
  ctx: TransferContext,
  srcURL: URL,
  plan: Plan,
  opened: Download,
): Promise<JobSource> {
  const file = localFile(ctx, srcURL, plan);
  if (!file) return downloadedSource(ctx, srcURL, opened);
  await opened.stream.cancel();
  return fileSource(file);
}

/** The source of a job picked up again from the journal: checked or downloaded when taken. */
export function resumedSource(ctx: TransferContext, srcURL: URL, plan: Plan): JobSource {
  const file = localFile(ctx, srcURL, plan);
  return file ? fileSource(file) : downloadedSource(ctx, srcURL);
}
