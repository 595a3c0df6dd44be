/**
 * The "Access" flags: who may use the server and what it may touch.
 *
 * @module
 */
import type { Flag } from "./flag.ts";

/** The "Access" section of the usage text, in its order. */
export const ACCESS_FLAGS = [
  {
    name: "token",
    to: "access.token",
    section: "access",
    kind: "string",
    arg: "T",
    emptyIsUnset: true,
    help: 'require "Authorization: Bearer T" (all but GET /healthz)',
    // RFC 6750's token68: what a client can send in the header, and all Hono's bearer-auth takes.
    check: (token, source) =>
      /^[A-Za-z0-9._~+/-]+=*$/.test(token)
        ? undefined
        : `${source} may hold only letters, digits and . _ ~ + / - (then = padding), as a bearer token must`,
  },
  {
    name: "token-file",
    to: "secretFiles.token",
    section: "access",
    kind: "string",
    arg: "FILE",
    emptyIsUnset: true,
    help: "read the token from FILE (kept out of ps, unlike --token)",
  },
  {
    name: "file-root",
    to: "access.fileRoots",
    section: "access",
    kind: "list",
    separator: ":",
    arg: "DIR",
    help: "allow file:// under DIR (repeatable; none by default)",
  },
  {
    name: "shared-file-roots",
    to: "access.sharedFileRoots",
    section: "access",
    kind: "bool",
    help:
      "with --journal: every server has the same --file-root\nfolders (one shared mount), so any server may run a file:// job",
  },
  {
    name: "allow-private-networks",
    to: "access.allowPrivateNetworks",
    section: "access",
    kind: "bool",
    help: "allow loopback, private and link-local addresses",
  },
  {
    name: "allow-host",
    to: "access.allowHosts",
    section: "access",
    kind: "list",
    separator: ",",
    arg: "PATTERN",
    help: "only these hosts: name, *.domain or IP (repeatable)",
  },
  {
    name: "callback-secret",
    to: "callbackSecret",
    section: "access",
    kind: "string",
    arg: "whsec_...",
    emptyIsUnset: true,
    help: "sign callbacks the Standard Webhooks way",
    check: (secret, source) =>
      isWebhookSecret(secret) ? undefined : `${source} must be "whsec_" followed by at least 16 base64 bytes ` +
        `(make one with: echo whsec_$(openssl rand -base64 32))`,
  },
  {
    name: "callback-secret-file",
    to: "secretFiles.callbackSecret",
    section: "access",
    kind: "string",
    arg: "FILE",
    emptyIsUnset: true,
    help: "read the callback secret from FILE (kept out of ps)",
  },
] as const satisfies readonly Flag[];

/** Whether `secret` is a Standard Webhooks secret: `whsec_` and at least 16 bytes in base64. */
export function isWebhookSecret(secret: string): boolean {
  const match = /^whsec_([A-Za-z0-9+/]+={0,2})$/.exec(secret);
  if (!match) return false;
  try {
    return atob(match[1]).length >= 16;
  } catch {
    return false;
  }
}
