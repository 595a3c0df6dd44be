/**
 * The network guard: every connection's host is resolved and checked here
 * first, against the private ranges (unless `--allow-private-networks`)
 * and the `--allow-host` list.
 *
 * @module
 */
import { lookup } from "node:dns/promises";
import { ImgserveError } from "../../protocol/error_codes.ts";
import type { AddressGuard } from "../transport/mod.ts";
import { isIpLiteral, isPrivateAddress } from "./addresses.ts";

/** What the operator opened. */
export interface NetworkPolicy {
  allowPrivateNetworks: boolean;
  /** Host patterns: `name`, `*.domain` or an IP literal; empty means any host. */
  allowHosts: string[];
}

/** Whether `host` matches one of the `--allow-host` patterns. */
export function hostAllowed(host: string, patterns: string[]): boolean {
  if (patterns.length === 0) return true;
  const name = host.toLowerCase().replace(/^\[|\]$/g, "").replace(/\.$/, "");
  return patterns.some((pattern) => {
    const p = pattern.toLowerCase().replace(/^\[|\]$/g, "");
    if (p.startsWith("*.")) return name.endsWith(p.slice(1)) && name.length > p.length - 1;
    return name === p;
  });
}

/**
 * A guard for a policy. Names are resolved the way the system resolves
 * them (getaddrinfo, so /etc/hosts counts), and a name is refused if any
 * of its addresses is forbidden, since the connection may use any of them.
 */
export function networkGuard(policy: NetworkPolicy): AddressGuard {
  const checkAddress = (address: string, host = address) => {
    if (!policy.allowPrivateNetworks && isPrivateAddress(address)) {
      throw new ImgserveError(
        "NETWORK_FORBIDDEN",
        `${host} is a private, loopback or link-local address (${address}); the server refuses those unless started with --allow-private-networks`,
      );
    }
  };
  return {
    async resolve(hostname: string): Promise<string> {
      const host = hostname.replace(/^\[|\]$/g, "");
      if (!hostAllowed(host, policy.allowHosts)) {
        throw new ImgserveError("HOST_NOT_ALLOWED", `${host} is not in the server's --allow-host list`);
      }
      if (isIpLiteral(host)) {
        checkAddress(host);
        return host;
      }
      let addresses: { address: string }[];
      try {
        addresses = await lookup(host, { all: true, verbatim: true });
      } catch {
        // Unresolvable: let the connection fail with its own "unreachable" error.
        return host;
      }
      for (const { address } of addresses) checkAddress(address, host);
      return addresses[0]?.address ?? host;
    },
    checkAddress: (address) => checkAddress(address),
  };
}
