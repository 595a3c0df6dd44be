/**
 * `s3://BUCKET/KEY` sources and destinations, on AWS or any S3-compatible
 * store (`--s3-endpoint`). An S3 PUT (and a multipart upload's completion)
 * replaces an object at once, so readers see the old object or the new
 * one and no temporary key is needed. A destination's earlier object is
 * copied aside to a hidden key beside it (shared/keep.ts's name) when the
 * placeholder is written, and copied back if the job fails.
 *
 * The endpoint is the operator's choice, so the network guard does not
 * apply to it; a job names only a bucket and a key, never a host.
 *
 * @module
 */
import type { S3Client } from "@aws-sdk/client-s3";
import { checkDeclaredSize, type TransferOptions, type Transport, type TransportSetup } from "../mod.ts";
import { loadSdk, makeClient, s3Error } from "./s3_client.ts";
import type { S3Settings } from "./s3_settings.ts";
import { keptObject, objectOf, type S3Object } from "./s3_object.ts";
import { s3ArgsOf } from "./s3_args.ts";

/** Results above this go up in parts of this size (S3's minimum part is 5 MiB). */
export const PART_BYTES = 8 * 1024 * 1024;

/** Parts in flight at once: the memory an upload holds beyond the result is bounded by this times PART_BYTES. */
const PARALLEL_PARTS = 2;

/** The transport's S3 clients, one per transfer timeout (one per server in practice). */
function clients(settings: S3Settings): (timeoutMs: number) => Promise<S3Client> {
  const made = new Map<number, Promise<S3Client>>();
  return (timeoutMs) => {
    let client = made.get(timeoutMs);
    if (!client) made.set(timeoutMs, client = makeClient(settings, timeoutMs));
    return client;
  };
}

/** Passes the body through, each failure as our error. */
function mappedBody(body: ReadableStream<Uint8Array>, object: S3Object, signal?: AbortSignal) {
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) controller.close();
        else controller.enqueue(value);
      } catch (err) {
        controller.error(s3Error(err, "source", object, signal));
      }
    },
    async cancel(reason) {
      await reader.cancel(reason);
    },
  });
}

/** Copies `from` to `to` in the store; false when `from` is not there. */
async function copyIfThere(client: S3Client, from: S3Object, to: S3Object, signal?: AbortSignal): Promise<boolean> {
  const { CopyObjectCommand } = await loadSdk();
  try {
    await client.send(
      new CopyObjectCommand({
        Bucket: to.bucket,
        Key: to.key,
        CopySource: `${from.bucket}/${encodeURIComponent(from.key)}`,
      }),
      { abortSignal: signal },
    );
    return true;
  } catch (err) {
    const name = (err as { name?: string }).name;
    if (name === "NoSuchKey" || name === "NotFound") return false;
    throw err;
  }
}

/** What an object is stored with besides its bytes. */
interface ObjectHeaders {
  ContentType: string;
  CacheControl?: string;
  Metadata?: Record<string, string>;
}

/** Uploads `bytes` in parts of PART_BYTES, PARALLEL_PARTS at a time; the object appears when all are in. */
async function putInParts(
  client: S3Client,
  object: S3Object,
  bytes: Uint8Array<ArrayBuffer>,
  headers: ObjectHeaders,
  signal?: AbortSignal,
): Promise<void> {
  const sdk = await loadSdk();
  const at = { Bucket: object.bucket, Key: object.key };
  const { UploadId } = await client.send(
    new sdk.CreateMultipartUploadCommand({ ...at, ...headers }),
    { abortSignal: signal },
  );
  try {
    const count = Math.ceil(bytes.byteLength / PART_BYTES);
    const parts: { ETag?: string; PartNumber: number }[] = [];
    let next = 0;
    const uploadParts = async () => {
      while (next < count) {
        const n = next++;
        const body = bytes.subarray(n * PART_BYTES, Math.min(bytes.byteLength, (n + 1) * PART_BYTES));
        const { ETag } = await client.send(
          new sdk.UploadPartCommand({ ...at, UploadId, PartNumber: n + 1, Body: body, ContentLength: body.byteLength }),
          { abortSignal: signal },
        );
        parts[n] = { ETag, PartNumber: n + 1 };
      }
    };
    await Promise.all(Array.from({ length: Math.min(PARALLEL_PARTS, count) }, uploadParts));
    await client.send(
      new sdk.CompleteMultipartUploadCommand({ ...at, UploadId, MultipartUpload: { Parts: parts } }),
      { abortSignal: signal },
    );
  } catch (err) {
    await client.send(new sdk.AbortMultipartUploadCommand({ ...at, UploadId })).catch(() => {});
    throw err;
  }
}

/**
 * The S3 transport, with the server's endpoint, region and credentials.
 *
 * @example
 * ```ts
 * const transport = s3Transport({ roots, s3: { endpoint: "http://127.0.0.1:7480", pathStyle: true } });
 * ```
 */
export const s3Transport = ({ s3 }: TransportSetup): Transport => {
  const settings: S3Settings = s3 ??
    { endpoint: undefined, region: undefined, pathStyle: false, cacheControl: undefined };
  const clientFor = clients(settings);
  const where = settings.endpoint ?? "aws";

  /** Runs `action` with the client, every failure as our error. */
  const using = async <T>(
    url: URL,
    side: "source" | "destination",
    options: TransferOptions,
    action: (client: S3Client, object: S3Object, sdk: Awaited<ReturnType<typeof loadSdk>>) => Promise<T>,
  ): Promise<T> => {
    const object = objectOf(url, side);
    try {
      return await action(await clientFor(options.timeoutMs), object, await loadSdk());
    } catch (err) {
      throw s3Error(err, side, object, options.signal);
    }
  };

  return {
    read: (url, options) =>
      using(url, "source", options, async (client, object, sdk) => {
        const out = await client.send(
          new sdk.GetObjectCommand({ Bucket: object.bucket, Key: object.key }),
          { abortSignal: options.signal },
        );
        const body = out.Body!.transformToWebStream() as ReadableStream<Uint8Array>;
        try {
          checkDeclaredSize(out.ContentLength, options);
        } catch (err) {
          await body.cancel();
          throw err;
        }
        return mappedBody(body, object, options.signal);
      }),

    write: (url, bytes, options) =>
      using(url, "destination", options, async (client, object, sdk) => {
        const job = options.job;
        const kept = job?.stage === "placeholder"
          ? await copyIfThere(client, object, keptObject(object, job.id), options.signal)
          : false;
        const asked = s3ArgsOf(options.jobArgs);
        const headers: ObjectHeaders = {
          ContentType: options.contentType,
          CacheControl: asked?.cacheControl ?? settings.cacheControl,
          Metadata: asked?.metadata,
        };
        try {
          if (bytes.byteLength > PART_BYTES) {
            await putInParts(client, object, bytes, headers, options.signal);
          } else {
            await client.send(
              new sdk.PutObjectCommand({
                Bucket: object.bucket,
                Key: object.key,
                Body: bytes,
                ...headers,
                ContentLength: bytes.byteLength,
              }),
              { abortSignal: options.signal },
            );
          }
        } catch (err) {
          // The earlier object is still in place; its copy would be left behind, as nobody learns of it.
          if (kept) {
            const copy = keptObject(object, job!.id);
            await client.send(new sdk.DeleteObjectCommand({ Bucket: copy.bucket, Key: copy.key })).catch(() => {});
          }
          throw err;
        }
        return { kept };
      }),

    settle: (url, job, outcome, options) =>
      using(url, "destination", options, async (client, object, sdk) => {
        const kept = keptObject(object, job);
        if (outcome === "failed") await copyIfThere(client, kept, object, options.signal);
        await client.send(new sdk.DeleteObjectCommand({ Bucket: kept.bucket, Key: kept.key }), {
          abortSignal: options.signal,
        });
      }),

    remove: (url, options) =>
      using(url, "destination", options, async (client, object, sdk) => {
        await client.send(new sdk.DeleteObjectCommand({ Bucket: object.bucket, Key: object.key }), {
          abortSignal: options.signal,
        });
      }),

    // A multipart upload an earlier attempt left unfinished (a crash) holds storage until aborted.
    cleanUp: (url, _job, options) =>
      using(url, "destination", options, async (client, object, sdk) => {
        const { Uploads } = await client.send(
          new sdk.ListMultipartUploadsCommand({ Bucket: object.bucket, Prefix: object.key }),
          { abortSignal: options.signal },
        );
        for (const upload of Uploads ?? []) {
          if (upload.Key !== object.key) continue;
          await client.send(
            new sdk.AbortMultipartUploadCommand({ Bucket: object.bucket, Key: object.key, UploadId: upload.UploadId }),
            { abortSignal: options.signal },
          );
        }
      }),

    identity: (url, role) => {
      const { bucket, key } = objectOf(url, role);
      return `s3://${where}/${bucket}/${key}`;
    },
  };
};
