/**
 * The Transport interface and the scheme → transport table. Every protocol
 * imgserve reads from or writes to lives behind this one interface, so the
 * job pipeline never knows which protocol it is talking.
 *
 * @module
 */
import type { LocalSource } from "../../protocol/work.ts";
import { ImgserveError } from "../../protocol/error_codes.ts";
import { readAtMost } from "../streams.ts";
import type { JobWrite } from "../../shared/keep.ts";
import type { FileRoots } from "../security/files.ts";
import type { ContentDigest } from "./digest.ts";
import type { S3Settings } from "./s3/s3_settings.ts";

export { type ContentDigest, digestOf, sameContent } from "./digest.ts";
export { boundedDownload, type DownloadBounds } from "./bounded_download.ts";
export type { JobWrite } from "../../shared/keep.ts";

/**
 * Decides whether a network peer may be contacted. Transports call it for
 * every connection they open (redirects and FTP data connections included)
 * with the address they are about to connect to.
 */
export interface AddressGuard {
  /**
   * Resolves `hostname` and returns the address to connect to, or throws an
   * ImgserveError (NETWORK_FORBIDDEN, HOST_NOT_ALLOWED) when it is not allowed.
   */
  resolve(hostname: string): Promise<string>;
  /** Throws when a literal address (an FTP PASV reply, say) is not allowed. */
  checkAddress(address: string): void;
}

/** A guard that allows everything and resolves nothing. */
export const openGuard: AddressGuard = {
  resolve: (hostname) => Promise.resolve(hostname),
  checkAddress: () => {},
};

/** What every transfer needs besides the URL. */
export interface TransferOptions {
  /** Aborts the whole transfer; transports close their connections on it. */
  signal?: AbortSignal;
  /** Limit for connecting, for each protocol reply, and for data going idle. */
  timeoutMs: number;
  /** Extra trusted roots (PEM), in addition to the system's. */
  caCerts: string[];
  /** The network policy. */
  guard: AddressGuard;
  /**
   * For reads: the size limit. A transport that learns the size up front
   * (file size, Content-Length, FTP SIZE) refuses a larger source at once
   * with SOURCE_TOO_LARGE; the reader enforces it again while reading.
   */
  maxBytes?: number;
}

const CERTIFICATE_TROUBLE = /certificate|UnknownIssuer|NotValidForName|BadSignature|CertExpired/i;

/** The OS and HTTP-client wordings of a failed connection, each as one plain sentence. */
const NETWORK_REASONS: [RegExp, string][] = [
  [/connection refused/i, "the connection was refused"],
  [
    /dns error|failed to lookup address|name or service not known|no address associated/i,
    "the host name does not resolve",
  ],
  [/connection reset/i, "the connection was reset"],
  [/network is unreachable/i, "the network is unreachable"],
  [/no route to host/i, "there is no route to the host"],
  [/broken pipe|connection aborted/i, "the connection was closed by the other end"],
];

/**
 * A failed connection's reason as one sentence: the HTTP client's chain
 * ("error sending request for url (…): client error (Connect): tcp connect
 * error: Connection refused (os error 111)") becomes "the connection was
 * refused"; other reasons lose the chain's prefixes and the OS error number.
 */
export function networkReason(message: string): string {
  if (CERTIFICATE_TROUBLE.test(message)) return message; // connectionError tells a refused certificate by its words
  const known = NETWORK_REASONS.find(([pattern]) => pattern.test(message));
  if (known) return known[1];
  return message.replace(/^error sending request for url \([^)]*\): /, "").replace(/^client error \(\w+\): /, "")
    .replace(/\s*\(os error \d+\)/g, "");
}

/**
 * The error for a connection that failed: "unreachable" (worth retrying)
 * unless the peer's TLS certificate was refused, which no retry mends.
 */
export function connectionError(side: "source" | "destination", message: string, cause?: unknown): ImgserveError {
  if (CERTIFICATE_TROUBLE.test(message)) {
    return new ImgserveError(
      side === "source" ? "SOURCE_REFUSED" : "DESTINATION_REFUSED",
      `${message} (the server's TLS certificate is not trusted; --ca-file adds a trusted issuer)`,
      { cause },
    );
  }
  return new ImgserveError(side === "source" ? "SOURCE_UNREACHABLE" : "DESTINATION_UNREACHABLE", message, { cause });
}

/** Throws SOURCE_TOO_LARGE when a size known up front is over the limit. */
export function checkDeclaredSize(size: number | undefined, options: TransferOptions): void {
  if (size !== undefined && options.maxBytes !== undefined && size > options.maxBytes) {
    throw new ImgserveError(
      "SOURCE_TOO_LARGE",
      `the source is ${size} bytes, over the limit of ${options.maxBytes} bytes`,
    );
  }
}

/** Options of an upload. */
export interface WriteOptions extends TransferOptions {
  /** MIME type of the bytes, e.g. `image/png`. */
  contentType: string;
  /**
   * The job's args, passed through unread: a transport whose uploads they
   * shape picks out its own and ignores the rest (HTTP: the upload form's
   * field, see http_upload.ts), so the job knows nothing of any protocol.
   */
  jobArgs?: object;
  /**
   * The job and upload this is, naming its temporary file (see keep.ts).
   * A placeholder upload keeps the file it replaces, where the transport
   * can, until {@linkcode Transport.settle}.
   */
  job?: JobWrite;
}

/** What an upload did besides storing the bytes. */
export interface WriteOutcome {
  /** An earlier file at the destination was kept aside, to be settled when the job ends. */
  kept: boolean;
}

/**
 * One protocol: a scheme module implements this, and the
 * {@linkcode TransportTable} adds the defaults of what it leaves out.
 *
 * A transport owns the resources it reaches: it says whether two URLs
 * name one resource, keeps a destination's earlier file aside while a job
 * holds it, puts it back or lets it go when the job ends, and removes what
 * a job left behind. `read` opens the source and resolves once the peer
 * has said the file exists (errors such as "not found" reject it); the
 * stream then yields the bytes and closes every connection when done or
 * cancelled. `write` stores the bytes so that a reader never sees a
 * half-written file; a placeholder's write (`options.job.stage`) keeps the
 * file it replaces aside, where the transport can, and says so.
 */
export interface Transport {
  read(url: URL, options: TransferOptions): Promise<ReadableStream<Uint8Array>>;
  write(url: URL, bytes: Uint8Array<ArrayBuffer>, options: WriteOptions): Promise<WriteOutcome | void>;
  /**
   * A key naming the resource itself, so that two URLs of one resource (a
   * symlink, a hard link, another spelling) give equal keys. Without it,
   * the URL's own spelling decides (see {@linkcode urlIdentity}).
   */
  identity?(url: URL, role: Role): string;
  /**
   * When a job whose placeholder kept an earlier file ends: "done" lets the
   * kept file go, "failed" puts it back over the placeholder.
   */
  settle?(url: URL, job: string, outcome: "done" | "failed", options: TransferOptions): Promise<void>;
  /** Deletes the file at `url`: a placeholder of a request that was refused after writing it. */
  remove?(url: URL, options: TransferOptions): Promise<void>;
  /** Removes the temporary files an earlier attempt of `job` may have left beside `url`. */
  cleanUp?(url: URL, job: string, options: TransferOptions): Promise<void>;
  /**
   * For a destination on this machine: its checked path and the job's
   * temporary name beside it, which a worker may write itself (file://
   * only; see workers/local_io.ts).
   */
  localDestination?(url: URL, job: JobWrite): LocalDestination;
  /**
   * For a source on this machine: its checked path and identity, which a
   * worker may read itself (file:// only; see workers/local_io.ts).
   * Throws what `read` would (not found, outside the roots, too large).
   */
  localSource?(url: URL, options: TransferOptions): LocalSource;
}

/** Which side of a job a URL is on. */
export type Role = "source" | "destination";

/** A destination a worker writes itself: the checked path, through the job's temporary file beside it. */
export interface LocalDestination {
  path: string;
  temp: string;
}

/**
 * What a job asks of its transports, whatever the scheme: each call goes
 * to the URL's transport, with the table's defaults where the transport
 * has nothing to do. src/job/ sees only this.
 */
export interface Transports {
  /** Throws UNSUPPORTED_SCHEME when no transport serves the URL's scheme. */
  check(url: URL): void;
  read(url: URL, options: TransferOptions): Promise<ReadableStream<Uint8Array>>;
  write(url: URL, bytes: Uint8Array<ArrayBuffer>, options: WriteOptions): Promise<WriteOutcome>;
  /** The key of the resource `url` names: equal keys, the same resource. */
  identity(url: URL, role: Role): string;
  /** Lets go of (done) or puts back (failed) the file a placeholder kept aside; nothing where none can be kept. */
  settle(url: URL, job: string, outcome: "done" | "failed", options: TransferOptions): Promise<void>;
  /**
   * Deletes the placeholder of a refused request, if what is there is still
   * exactly that placeholder; transports that cannot delete (HTTP) leave it.
   */
  withdraw(url: URL, placeholder: ContentDigest, options: TransferOptions): Promise<void>;
  /** Removes the temporary files an earlier attempt of `job` may have left beside `url`. */
  cleanUp(url: URL, job: string, options: TransferOptions): Promise<void>;
  /** A checked local source a worker may read itself, or undefined when the bytes must be downloaded. */
  localSource(url: URL, options: TransferOptions): LocalSource | undefined;
  /** A checked local destination a worker may write itself, or undefined when the bytes are uploaded. */
  localDestination(url: URL, job: JobWrite): LocalDestination | undefined;
}

/** What a server gives each transport it makes; a transport takes what it needs. */
export interface TransportSetup {
  /** The folders file:// may read and write. */
  roots: FileRoots;
  /** Where s3:// URLs go and as whom (the `--s3-*` flags and the AWS variables). */
  s3?: S3Settings;
}

/**
 * How every scheme's module makes its transport, in one form:
 * `fileTransport`, `httpTransport`, `ftpTransport`, `s3Transport`.
 */
export type TransportFactory = (setup: TransportSetup) => Transport;

/**
 * The key of a URL's resource when its transport has none of its own: the
 * URL without credentials, fragment, default port or scheme variant.
 *
 * @example
 * ```ts
 * urlIdentity(new URL("https://u:p@h:443/a%20b.png#x")); // "http://h/a b.png"
 * ```
 */
export function urlIdentity(url: URL): string {
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
 * Reads a whole stream into one buffer, refusing to grow past `maxBytes`
 * (the stream is cancelled at that point, so nothing more is downloaded).
 */
export async function readAll(
  stream: ReadableStream<Uint8Array>,
  maxBytes: number,
  prefix: Uint8Array[] = [],
): Promise<Uint8Array> {
  const bytes = await readAtMost(stream, maxBytes, { prefix });
  if (!bytes) throw new ImgserveError("SOURCE_TOO_LARGE", `the source is larger than the limit of ${maxBytes} bytes`);
  return bytes;
}
