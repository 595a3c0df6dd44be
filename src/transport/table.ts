/**
 * The schemes imgserve speaks, put together for one server.
 *
 * @module
 */
import type { FileRoots } from "../security/files.ts";
import { fileTransport } from "./file.ts";
import { ftpTransport } from "./ftp/mod.ts";
import { httpTransport } from "./http.ts";
import { TransportTable } from "./mod.ts";

/** Every built-in transport; local files confined to `roots`. */
export function builtinTransports(roots: FileRoots): TransportTable {
  return new TransportTable()
    .register(["file"], fileTransport(roots))
    .register(["http", "https"], httpTransport)
    .register(["ftp", "ftps", "ftpes"], ftpTransport);
}
