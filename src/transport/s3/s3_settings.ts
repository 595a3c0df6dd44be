/**
 * Where `s3://` URLs go and as whom, the way AWS tools decide it: the
 * `--s3-*` flags first, then the standard AWS variables, then the shared
 * config and credentials files (which the SDK reads for the profile).
 *
 * @module
 */

/** The S3 flags as the flag table fills them. */
export interface S3Flags {
  endpoint: string | undefined;
  region: string | undefined;
  pathStyle: boolean;
  /** Cache-Control of every object written, unless a job's `s3.cacheControl` says otherwise. */
  cacheControl: string | undefined;
}

/** Everything the S3 transport needs to make its client. */
export interface S3Settings {
  /** `http(s)://host[:port]`, or undefined for AWS itself. */
  endpoint: string | undefined;
  /** Undefined: the profile's region, else us-east-1 with an endpoint (see s3_client.ts). */
  region: string | undefined;
  pathStyle: boolean;
  /** Static credentials from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (with AWS_SESSION_TOKEN). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** AWS_PROFILE: the shared files' profile for credentials (and region, assumed roles, SSO). */
  profile?: string;
  /** Cache-Control of every object written (`--s3-cache-control`), unless a job's says otherwise. */
  cacheControl: string | undefined;
  /** Extra trusted roots (PEM) from --ca-file, for an https endpoint with a private CA. */
  caCerts?: string[];
}

/**
 * The S3 settings from the flags and the environment's variables.
 *
 * @example
 * ```ts
 * s3Settings({ endpoint: undefined, region: undefined, pathStyle: false, cacheControl: undefined }, { AWS_ENDPOINT_URL_S3: "http://127.0.0.1:7480" }).endpoint; // "http://127.0.0.1:7480"
 * ```
 */
export function s3Settings(flags: S3Flags, vars: Record<string, string>): S3Settings {
  const set = (name: string) => vars[name] || undefined;
  const accessKeyId = set("AWS_ACCESS_KEY_ID");
  const secretAccessKey = set("AWS_SECRET_ACCESS_KEY");
  return {
    endpoint: (flags.endpoint ?? set("AWS_ENDPOINT_URL_S3") ?? set("AWS_ENDPOINT_URL"))?.replace(/\/$/, ""),
    region: flags.region ?? set("AWS_REGION") ?? set("AWS_DEFAULT_REGION"),
    pathStyle: flags.pathStyle,
    cacheControl: flags.cacheControl,
    credentials: accessKeyId && secretAccessKey
      ? { accessKeyId, secretAccessKey, sessionToken: set("AWS_SESSION_TOKEN") }
      : undefined,
    profile: set("AWS_PROFILE"),
  };
}
