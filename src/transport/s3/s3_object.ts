/**
 * `s3://BUCKET/KEY` parsed once: the bucket checked against S3's naming
 * rules, the key URL-decoded once (as file:// paths are).
 *
 * @module
 */
import { ImgserveError } from "../../../protocol/error_codes.ts";
import { beside } from "../../../shared/paths.ts";
import { keptName } from "../../../shared/keep.ts";

/** One object of a bucket. */
export interface S3Object {
  bucket: string;
  key: string;
}

/** S3's bucket names: 3–63 of lower-case letters, digits, dots and hyphens, a letter or digit at each end. */
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * The bucket and decoded key of an `s3://` URL.
 *
 * @example
 * ```ts
 * objectOf(new URL("s3://photos/2024/a%20b.jpg"), "source"); // { bucket: "photos", key: "2024/a b.jpg" }
 * ```
 */
export function objectOf(url: URL, role: "source" | "destination"): S3Object {
  const bucket = url.hostname;
  if (!BUCKET.test(bucket)) {
    throw new ImgserveError(
      "BAD_URL",
      `the ${role} s3://${bucket}/… does not name a valid bucket (3-63 of a-z 0-9 . -)`,
    );
  }
  if (url.username || url.password || url.port || url.search || url.hash) {
    throw new ImgserveError("BAD_URL", `an s3:// ${role} is s3://BUCKET/KEY, without user, port, query or fragment`);
  }
  let key: string;
  try {
    key = decodeURIComponent(url.pathname.slice(1));
  } catch {
    throw new ImgserveError("BAD_URL", `the ${role} key has a malformed percent-encoding`);
  }
  if (key === "" || key.endsWith("/")) {
    throw new ImgserveError(
      role === "destination" ? "BAD_DESTINATION_NAME" : "BAD_URL",
      `the ${role} s3://${bucket}/${key} names no object (a key is needed, not a folder)`,
    );
  }
  return { bucket, key };
}

/** Where a destination's earlier object is kept while a job holds it: a hidden key beside it (see shared/keep.ts). */
export function keptObject(object: S3Object, job: string): S3Object {
  return { bucket: object.bucket, key: beside(object.key, keptName(job)) };
}
