/**
 * The S3 client (the AWS SDK's, loaded on first use: it costs ~0.3 s and
 * ~25 MB, which a server that never sees `s3://` should not pay) and what
 * its failures mean, each as one code and one sentence.
 *
 * @module
 */
import type { S3Client } from "@aws-sdk/client-s3";
import { Agent } from "node:https";
import { rootCertificates } from "node:tls";
import { type ErrorName, ImgserveError } from "../../../protocol/error_codes.ts";
import { connectionError, networkReason } from "../mod.ts";
import type { S3Settings } from "./s3_settings.ts";
import type { S3Object } from "./s3_object.ts";

/** The SDK module, imported once. */
export type Sdk = typeof import("@aws-sdk/client-s3");

let sdk: Promise<Sdk> | undefined;

/** The SDK, imported on the first `s3://` transfer. */
export function loadSdk(): Promise<Sdk> {
  return sdk ??= import("@aws-sdk/client-s3");
}

/**
 * Makes the one client of a server (per transfer timeout). Retries are
 * the job's (retry.ts), so the SDK tries once; checksums only where S3
 * requires them, since several S3-compatible stores refuse the newer
 * checksum headers.
 */
export async function makeClient(settings: S3Settings, timeoutMs: number): Promise<S3Client> {
  const { S3Client } = await loadSdk();
  return new S3Client({
    endpoint: settings.endpoint,
    // A non-AWS endpoint without a region must not stall on looking one up.
    region: settings.region ?? (settings.endpoint ? "us-east-1" : undefined),
    forcePathStyle: settings.pathStyle,
    credentials: settings.credentials,
    profile: settings.profile,
    maxAttempts: 1,
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    // Without throwOnRequestTimeout the handler only logs a warning and waits on.
    requestHandler: {
      connectionTimeout: timeoutMs,
      requestTimeout: timeoutMs,
      throwOnRequestTimeout: true,
      // --ca-file's roots join the system's, as for HTTPS and FTPS.
      ...(settings.caCerts?.length
        ? { httpsAgent: new Agent({ ca: [...rootCertificates, ...settings.caCerts] }) }
        : {}),
    },
  });
}

type Side = "source" | "destination";

/** What an S3 failure is; each has a source code and a destination code (`SOURCE_` or `DESTINATION_` + it). */
type Failure = "NOT_FOUND" | "BUCKET_NOT_FOUND" | "ACCESS_DENIED" | "BAD_CREDENTIALS" | "WRONG_REGION" | "THROTTLED";

const OTHER_REGION = ["WRONG_REGION", "the bucket is in another region"] as const;

/** Each S3 error code (or HEAD's bare status name) → what it is, and what it means in words. */
const S3_CODES: Record<string, readonly [Failure, string]> = {
  NoSuchKey: ["NOT_FOUND", "no such key"],
  NotFound: ["NOT_FOUND", "not found"],
  NoSuchBucket: ["BUCKET_NOT_FOUND", "the bucket does not exist"],
  AccessDenied: ["ACCESS_DENIED", "access denied"],
  AllAccessDisabled: ["ACCESS_DENIED", "access denied"],
  Forbidden: ["ACCESS_DENIED", "access denied (or bad credentials)"],
  InvalidAccessKeyId: ["BAD_CREDENTIALS", "the access key is not known"],
  SignatureDoesNotMatch: ["BAD_CREDENTIALS", "the signature does not match (wrong secret key)"],
  ExpiredToken: ["BAD_CREDENTIALS", "the session token has expired"],
  InvalidToken: ["BAD_CREDENTIALS", "the session token is not valid"],
  CredentialsProviderError: [
    "BAD_CREDENTIALS",
    "no credentials found (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE)",
  ],
  PermanentRedirect: OTHER_REGION,
  AuthorizationHeaderMalformed: OTHER_REGION,
  IncorrectEndpoint: OTHER_REGION,
  SlowDown: ["THROTTLED", "the store asks to slow down"],
  ServiceUnavailable: ["THROTTLED", "the store is busy (503)"],
};

/** The code of a failure on one side; a key missing at a destination (a copy's source gone) is not writable there. */
function codeOf(failure: Failure, side: Side): ErrorName {
  if (side === "source") return `SOURCE_${failure}` as const;
  return failure === "NOT_FOUND" ? "DESTINATION_NOT_WRITABLE" : `DESTINATION_${failure}` as const;
}

interface SdkError {
  name?: string;
  message?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
}

/**
 * An SDK failure as our error: the S3 error code decides where it has
 * one; otherwise the HTTP status, a timeout, or the connection's reason.
 */
export function s3Error(err: unknown, side: Side, object: S3Object, signal?: AbortSignal): ImgserveError {
  if (err instanceof ImgserveError) return err;
  const where = `s3://${object.bucket}/${object.key}`;
  if (signal?.aborted) {
    const reason = signal.reason;
    return reason instanceof ImgserveError ? reason : connectionError(side, `the transfer of ${where} was aborted`);
  }
  const e = (err ?? {}) as SdkError;
  const message = e.message ?? String(err);
  const status = e.$metadata?.httpStatusCode;
  const known = S3_CODES[e.name ?? ""] ??
    (/region is missing/i.test(message)
      ? ["WRONG_REGION", "no region is set (--s3-region or AWS_REGION)"] as const
      : status === 301
      ? OTHER_REGION
      : undefined);
  if (known) return new ImgserveError(codeOf(known[0], side), `${where}: ${known[1]}`, { cause: err });
  if (e.name === "TimeoutError" || /timed? ?out/i.test(message) || e.code === "ETIMEDOUT") {
    return new ImgserveError(
      side === "source" ? "SOURCE_TIMEOUT" : "DESTINATION_TIMEOUT",
      `${where}: the S3 endpoint did not answer in time`,
    );
  }
  if (status !== undefined && status >= 500) {
    return new ImgserveError(
      side === "source" ? "SOURCE_SERVER_ERROR" : "DESTINATION_SERVER_ERROR",
      `${where}: the S3 endpoint answered ${status} (${e.name})`,
    );
  }
  if (status !== undefined) {
    return new ImgserveError(
      side === "source" ? "SOURCE_REFUSED" : "DESTINATION_REFUSED",
      `${where}: the S3 endpoint answered ${status} (${e.name}: ${message})`,
    );
  }
  return connectionError(side, `${where}: cannot reach the S3 endpoint: ${networkReason(message)}`, err);
}
