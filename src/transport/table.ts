/**
 * The scheme → transport table of one server, and the schemes imgserve
 * speaks. The table is what a job talks to ({@linkcode Transports}): each
 * call goes to the URL's transport, and where a transport leaves a method
 * out the table's default applies. A new scheme is one module and one row
 * of {@linkcode BUILTIN}.
 *
 * @module
 */
import { ImgserveError } from "../../protocol/error_codes.ts";
import type { FileRoots } from "../security/files.ts";
import { readAtMost } from "../streams.ts";
import { sameContent } from "./digest.ts";
import { fileTransport } from "./file.ts";
import { ftpTransport } from "./ftp/mod.ts";
import { httpTransport } from "./http.ts";
import { s3Transport } from "./s3/mod.ts";
import type { S3Settings } from "./s3/s3_settings.ts";
import type { Transport, TransportFactory, Transports } from "./mod.ts";
import { urlIdentity } from "./mod.ts";

/** Each built-in scheme module's factory, with the URL schemes it serves. */
const BUILTIN: [schemes: string[], make: TransportFactory][] = [
  [["file"], fileTransport],
  [["http", "https"], httpTransport],
  [["ftp", "ftps", "ftpes"], ftpTransport],
  [["s3"], s3Transport],
];

/**
 * The scheme → transport table of one server.
 *
 * @example
 * ```ts
 * const transports = new TransportTable().register(["ftp", "ftps", "ftpes"], ftpTransport());
 * await transports.read(new URL("ftp://host/a.png"), options);
 * ```
 */
export class TransportTable implements Transports {
  #table = new Map<string, Transport>();

  /** Registers a transport for URL schemes (without the colon). */
  register(schemes: string[], transport: Transport): this {
    for (const scheme of schemes) this.#table.set(scheme, transport);
    return this;
  }

  /** The transport of a URL's scheme, or UNSUPPORTED_SCHEME. */
  for(url: URL): Transport {
    const scheme = url.protocol.replace(/:$/, "");
    const transport = this.#table.get(scheme);
    if (!transport) {
      throw new ImgserveError(
        "UNSUPPORTED_SCHEME",
        `the scheme "${scheme}:" is not supported; use one of ${
          [...this.#table.keys()].map((s) => s + ":").join(", ")
        }`,
      );
    }
    return transport;
  }

  check: Transports["check"] = (url) => void this.for(url);

  read: Transports["read"] = (url, options) => this.for(url).read(url, options);

  write: Transports["write"] = async (url, bytes, options) =>
    (await this.for(url).write(url, bytes, options)) ?? { kept: false };

  identity: Transports["identity"] = (url, role) => this.for(url).identity?.(url, role) ?? urlIdentity(url);

  settle: Transports["settle"] = async (url, job, outcome, options) =>
    await this.for(url).settle?.(url, job, outcome, options);

  withdraw: Transports["withdraw"] = async (url, placeholder, options) => {
    const transport = this.for(url);
    if (!transport.remove) return;
    const there = await readAtMost(await transport.read(url, options), placeholder.size);
    if (there && sameContent(there, placeholder)) await transport.remove(url, options);
  };

  cleanUp: Transports["cleanUp"] = async (url, job, options) => await this.for(url).cleanUp?.(url, job, options);

  localSource: Transports["localSource"] = (url, options) => this.for(url).localSource?.(url, options);

  localDestination: Transports["localDestination"] = (url, job) => this.for(url).localDestination?.(url, job);
}

/** Every built-in transport; local files confined to `roots`, s3:// with the `s3` settings. */
export function builtinTransports(roots: FileRoots, s3?: S3Settings): TransportTable {
  const table = new TransportTable();
  for (const [schemes, make] of BUILTIN) table.register(schemes, make({ roots, s3 }));
  return table;
}
