/**
 * The "Connections" flags: what one client connection may hold, and CORS.
 *
 * @module
 */
import type { Flag } from "./flag.ts";
import { cacheControlProblem } from "../transport/s3/s3_args.ts";

/** The "Connections" section of the usage text, in its order. */
export const CONNECTION_FLAGS = [
  {
    name: "max-connections",
    to: "connections.maxConnections",
    section: "connections",
    kind: "int",
    arg: "N",
    help: "open connections before new ones get 503 (default: half\nthe open-file limit, at most 10000)",
  },
  {
    name: "header-timeout-ms",
    to: "connections.headerTimeoutMs",
    section: "connections",
    kind: "int",
    arg: "N",
    default: 10_000,
    help: "request line and headers must arrive within (default {default})",
  },
  {
    name: "body-timeout-ms",
    to: "connections.bodyTimeoutMs",
    section: "connections",
    kind: "int",
    arg: "N",
    default: 10_000,
    help: "request body must arrive within (default {default})",
  },
  {
    name: "keep-alive-timeout-ms",
    to: "connections.keepAliveTimeoutMs",
    section: "connections",
    kind: "int",
    arg: "N",
    default: 5_000,
    help: "idle keep-alive connections close after (default {default})",
  },
  {
    name: "cors-origin",
    to: "corsOrigins",
    section: "connections",
    kind: "list",
    separator: ",",
    arg: "ORIGIN",
    help:
      "send CORS headers to this browser origin (repeatable;\nnone by default, so browsers cannot post cross-origin)",
  },
  {
    name: "s3-endpoint",
    to: "s3.endpoint",
    section: "connections",
    kind: "string",
    arg: "URL",
    help:
      "the S3 endpoint of s3:// URLs (default: AWS_ENDPOINT_URL_S3,\nAWS_ENDPOINT_URL, else AWS); allowed on private networks",
    check: (value, source) =>
      /^https?:\/\/[^/]+\/?$/.test(value) ? undefined : `${source} must be http(s)://host[:port]`,
  },
  {
    name: "s3-region",
    to: "s3.region",
    section: "connections",
    kind: "string",
    arg: "REGION",
    help: "the S3 region (default: AWS_REGION, the profile's, else\nus-east-1 with an endpoint)",
  },
  {
    name: "s3-path-style",
    to: "s3.pathStyle",
    section: "connections",
    kind: "bool",
    help: "address buckets as ENDPOINT/BUCKET/KEY, not BUCKET.ENDPOINT/KEY",
  },
  {
    name: "s3-cache-control",
    to: "s3.cacheControl",
    section: "connections",
    kind: "string",
    arg: "VALUE",
    help: "the Cache-Control of every s3:// result (a job's args.s3.cacheControl\nwins); default none",
    check: (value, source) => cacheControlProblem(value) && `${source} ${cacheControlProblem(value)}`,
  },
] as const satisfies readonly Flag[];
