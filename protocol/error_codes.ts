/**
 * The one place where imgserve's error codes are defined. Every failure a
 * client can see is an {@linkcode ImgserveError} carrying one of these kinds;
 * codes and statuses are stable and documented in the README. Part of the
 * protocol: a worker names the code of what failed, and the server turns
 * the name back into the error (src/pool/replies.ts).
 *
 * @module
 */

/** What a code means to the client and to the retry logic. */
export interface ErrorKind {
  /** Stable integer sent to clients as `code`. */
  readonly code: number;
  /** HTTP status of the reply when the error happens during validation. */
  readonly status: number;
  /** True when trying the same job again later may succeed (network, 5xx). */
  readonly transient: boolean;
}

const kind = (code: number, status: number, transient = false): ErrorKind => ({
  code,
  status,
  transient,
});

/**
 * The code table. Ranges: 1xx request, 2xx source, 3xx destination,
 * 4xx access and policy, 5xx limits, 6xx processing, 7xx FTP.
 */
export const Errors = {
  // The request itself
  MISSING_KEY: kind(101, 400),
  WRONG_TYPE: kind(102, 400),
  UNKNOWN_OPERATION: kind(103, 400),
  BAD_ARGS: kind(104, 400),
  UNKNOWN_TAG: kind(105, 400),
  BAD_URL: kind(106, 400),
  UNSUPPORTED_SCHEME: kind(107, 400),
  BAD_DESTINATION_NAME: kind(108, 400),
  UNSUPPORTED_MEDIA_TYPE: kind(109, 415),
  IN_PLACE_REFUSED: kind(115, 409),
  DESTINATION_IS_FOLDER: kind(116, 400),
  BOTH_FORMS: kind(117, 400),
  OUTPUTS_COUNT: kind(118, 400),
  DUPLICATE_DESTINATION: kind(119, 400),
  /** A job error, never a reply: some outputs are done, the others failed. */
  PARTLY_DONE: kind(120, 500),
  /** The body of POST / is not JSON (the reply keeps its `msg`, "request parse error"). */
  BAD_JSON: kind(121, 400),
  /** An Idempotency-Key sent again with another body. */
  IDEMPOTENCY_MISMATCH: kind(122, 422),
  /** An Idempotency-Key whose first request has not been answered yet. */
  IDEMPOTENCY_IN_PROGRESS: kind(123, 409, true),
  /** Cancel of a job that has already ended. */
  JOB_FINISHED: kind(124, 409),
  /** Retry of a job that is neither failed nor cancelled. */
  JOB_NOT_RETRYABLE: kind(125, 409),
  /** A query parameter or header of a job-management request is invalid (state, since, limit, cursor, Idempotency-Key). */
  BAD_PARAMETER: kind(126, 400),
  /** `args.page` names a page the multi-page source does not have. */
  PAGE_NOT_FOUND: kind(127, 400),
  /** `args.frame` names a frame the source does not have. */
  FRAME_OUT_OF_RANGE: kind(128, 400),

  // The source
  SOURCE_UNREACHABLE: kind(201, 502, true),
  SOURCE_NOT_FOUND: kind(202, 404),
  SOURCE_TOO_LARGE: kind(203, 413),
  SOURCE_NOT_IMAGE: kind(204, 422),
  SOURCE_FORMAT_UNSUPPORTED: kind(205, 415),
  SOURCE_TIMEOUT: kind(206, 504, true),
  SOURCE_REFUSED: kind(207, 502),
  SOURCE_SERVER_ERROR: kind(208, 502, true),
  SOURCE_CHANGED: kind(209, 409, true),
  SOURCE_NOT_REGULAR_FILE: kind(210, 422),
  SOURCE_HEAD_TOO_LARGE: kind(211, 502),
  SOURCE_IS_PLACEHOLDER: kind(214, 409),
  /** S3: the source's bucket does not exist (a missing key is SOURCE_NOT_FOUND). */
  SOURCE_BUCKET_NOT_FOUND: kind(215, 404),
  /** S3: the credentials are valid but may not read the object. */
  SOURCE_ACCESS_DENIED: kind(216, 403),
  /** S3: the access key is unknown, the secret wrong, the token expired, or no credentials were found. */
  SOURCE_BAD_CREDENTIALS: kind(217, 403),
  /** S3: the bucket lives in another region than the one configured (or none is configured). */
  SOURCE_WRONG_REGION: kind(218, 502),
  /** S3: the store asked us to slow down (503 SlowDown); retried. */
  SOURCE_THROTTLED: kind(219, 503, true),

  // The destination
  DESTINATION_NOT_WRITABLE: kind(301, 502),
  DESTINATION_UNREACHABLE: kind(302, 502, true),
  DESTINATION_REFUSED: kind(303, 502),
  DESTINATION_TIMEOUT: kind(304, 504, true),
  DESTINATION_SERVER_ERROR: kind(305, 502, true),
  DESTINATION_HEAD_TOO_LARGE: kind(306, 502),
  /** S3: the destination's bucket does not exist. */
  DESTINATION_BUCKET_NOT_FOUND: kind(307, 404),
  /** S3: the credentials are valid but may not write the object. */
  DESTINATION_ACCESS_DENIED: kind(308, 403),
  /** S3: the access key is unknown, the secret wrong, the token expired, or no credentials were found. */
  DESTINATION_BAD_CREDENTIALS: kind(309, 403),
  /** S3: the bucket lives in another region than the one configured (or none is configured). */
  DESTINATION_WRONG_REGION: kind(310, 502),
  /** S3: the store asked us to slow down (503 SlowDown); retried. */
  DESTINATION_THROTTLED: kind(311, 503, true),

  // Access and policy
  UNAUTHORIZED: kind(401, 401),
  FILE_ACCESS_DISABLED: kind(402, 403),
  FILE_OUTSIDE_ROOT: kind(403, 403),
  NETWORK_FORBIDDEN: kind(404, 403),
  HOST_NOT_ALLOWED: kind(405, 403),

  // Limits
  BODY_TOO_LARGE: kind(501, 413),
  TOO_MANY_PIXELS: kind(502, 413),
  RESULT_TOO_LARGE: kind(503, 422),
  SVG_TOO_LARGE: kind(504, 413),
  QUEUE_FULL: kind(505, 503, true),
  SHUTTING_DOWN: kind(506, 503, true),
  RESULT_TOO_MANY_PIXELS: kind(507, 422),
  WORKER_MEMORY_EXCEEDED: kind(508, 413),
  /** A journal write failed (disk full, read-only, I/O error): nothing of the job is kept or left behind. */
  JOURNAL_UNAVAILABLE: kind(509, 503, true),
  REQUEST_TIMEOUT: kind(511, 408, true),
  TOO_MANY_CONNECTIONS: kind(512, 503, true),
  REQUEST_INCOMPLETE: kind(513, 400),
  /** Metadata that inflates (or is stored) beyond its cap: a decompression bomb. */
  METADATA_TOO_LARGE: kind(514, 413),
  /** A JPEG with more scans than any encoder writes: each costs a pass over the image. */
  TOO_MANY_SCANS: kind(515, 413),
  /** An animation with more frames than `--max-frames`, counted from its blocks before any decoding. */
  TOO_MANY_FRAMES: kind(516, 413),
  /** An animation whose frames together have more pixels than `--max-animation-pixels` (source or result). */
  ANIMATION_TOO_MANY_PIXELS: kind(517, 413),

  // Processing after the reply
  /** A reply, never a job error: a failure no other code names (a bug); the server's log has its details. */
  INTERNAL_ERROR: kind(600, 500),
  DECODE_FAILED: kind(601, 422),
  WORKER_CRASHED: kind(602, 500, true),
  PROCESSING_TIMEOUT: kind(603, 500),
  PROCESSING_FAILED: kind(604, 500),
  JOB_NOT_FOUND: kind(605, 404),
  /** The source decodes only with a warning (truncated, corrupt data, bad checksum) and args.failOn is "warning". */
  SOURCE_DAMAGED: kind(606, 422),
  /** A job error, never a reply: a client cancelled the job (DELETE /jobs/<id>). */
  CANCELLED: kind(607, 409),
  /** A TIFF strip or tile decompresses to more than its rows hold: a decompression bomb, stopped at that size. */
  TIFF_STRIP_TOO_LARGE: kind(608, 413),
  /** A TIFF page uses a coding, sample layout or colour model the decoder does not read. */
  TIFF_UNSUPPORTED: kind(609, 415),

  // FTP specifics (reply code and text go in the message)
  FTP_LOGIN_FAILED: kind(701, 502),
  FTP_PROTOCOL: kind(702, 502),
  FTP_TLS_REQUIRED: kind(703, 502),
  FTP_TIMEOUT: kind(704, 504, true),
  FTP_TRANSIENT: kind(705, 502, true),
} as const;

/** The name of an entry in {@linkcode Errors}. */
export type ErrorName = keyof typeof Errors;

/**
 * Whether `name` is an entry of {@linkcode Errors}: for names that cross a
 * boundary untyped, such as a worker's reply.
 *
 * @example
 * ```ts
 * isErrorName("QUEUE_FULL"); // true
 * isErrorName("toString"); // false
 * ```
 */
export function isErrorName(name: string): name is ErrorName {
  return Object.hasOwn(Errors, name);
}

/**
 * An error a client sees: a kind from the table plus one sentence a person
 * can act on.
 *
 * @example
 * ```ts
 * throw new ImgserveError("SOURCE_NOT_FOUND", "no file at /a/b.png");
 * ```
 */
export class ImgserveError extends Error {
  /** Which entry of the table this is; typed so comparisons are checked. */
  override readonly name: ErrorName;
  /** The table entry. */
  readonly kind: ErrorKind;

  constructor(name: ErrorName, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = name;
    this.kind = Errors[name];
  }

  /** Stable integer code. */
  get code(): number {
    return this.kind.code;
  }

  /** HTTP status for a validation-time reply. */
  get status(): number {
    return this.kind.status;
  }

  /** Whether trying again later may succeed. */
  get transient(): boolean {
    return this.kind.transient;
  }
}
