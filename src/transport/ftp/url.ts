/**
 * FTP URLs → where to connect, as whom, and which file.
 *
 * @module
 */
import { ImgserveError } from "../../../protocol/error_codes.ts";
import { maskCredentials } from "../../log.ts";
import type { FtpEndpoint, FtpSecurity } from "./control.ts";

const schemes: Record<string, { security: FtpSecurity; port: number }> = {
  ftp: { security: "none", port: 21 },
  ftps: { security: "implicit", port: 990 },
  ftpes: { security: "explicit", port: 21 },
};

/** An FTP URL taken apart. */
export interface FtpLocation {
  endpoint: FtpEndpoint;
  /** The file, relative to the login folder unless it starts with `/`; `//`, `.` and `x/..` collapsed. */
  path: string;
}

/**
 * Parses `ftp://[user[:password]@]host[:port]/path` (and ftps:, ftpes:).
 * As in RFC 1738 and curl, the path is relative to the login folder; an
 * encoded leading slash (`/%2Fsrv/x.png`) makes it absolute. No user means
 * `anonymous`. The decoded path is collapsed as a file system reads it
 * (`//`, `/./` and `x/..`), so each file has one spelling: the one every
 * command uses and the same-destination check compares.
 *
 * @example
 * ```ts
 * parseFtpUrl(new URL("ftpes://bob:s%40cret@example.com/out/a.png"));
 * // { endpoint: { security: "explicit", port: 21, user: "bob", password: "s@cret", ... }, path: "out/a.png" }
 * ```
 */
export function parseFtpUrl(url: URL): FtpLocation {
  const scheme = schemes[url.protocol.replace(/:$/, "")];
  if (!scheme) throw bad(url, "it is not an ftp:, ftps: or ftpes: URL");
  if (!url.hostname) throw bad(url, "it has no host");
  const user = url.username ? decode(url, url.username) : "anonymous";
  const password = url.password ? decode(url, url.password) : user === "anonymous" ? "anonymous@" : "";
  const spelled = decode(url, url.pathname).replace(/^\//, "");
  const path = collapse(spelled);
  if (path === "" || /(^|\/)\.{0,2}$/.test(spelled)) {
    throw bad(url, "it names a folder, not a file");
  }
  return {
    endpoint: {
      hostname: url.hostname,
      port: url.port ? Number(url.port) : scheme.port,
      security: scheme.security,
      user,
      password,
    },
    path,
  };
}

/** `a//b`, `a/./b` and `a/x/../b` as `a/b`; a leading `..` of a relative path stays (it climbs out of the login folder). */
function collapse(path: string): string {
  const absolute = path.startsWith("/");
  const parts: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part !== "..") parts.push(part);
    else if (parts.length > 0 && parts.at(-1) !== "..") parts.pop();
    else if (!absolute) parts.push(part);
  }
  return (absolute ? "/" : "") + parts.join("/");
}

function decode(url: URL, part: string): string {
  let text: string;
  try {
    text = decodeURIComponent(part);
  } catch {
    throw bad(url, "it has a malformed %-escape");
  }
  // A line break would let the URL smuggle its own FTP commands.
  if (/[\r\n\0]/.test(text)) throw bad(url, "it has a line break or NUL in it");
  return text;
}

function bad(url: URL, why: string): ImgserveError {
  return new ImgserveError(
    "BAD_URL",
    `the FTP URL ${maskCredentials(url.href)} is not usable: ${why}`,
  );
}
