/**
 * The schemes imgserve speaks, put together for one server.
 *
 * @module
 */
import type { FileRoots } from "../security/files.ts";
import { fileTransport } from "./file.ts";
import { ftpTransport } from "./ftp/mod.ts";
import { httpTransport } from "./http.ts";
import { type TransportFactory, TransportTable } from "./mod.ts";

/** Each built-in scheme module's factory, with the URL schemes it serves. */
const BUILTIN: [schemes: string[], make: TransportFactory][] = [
  [["file"], fileTransport],
  [["http", "https"], httpTransport],
  [["ftp", "ftps", "ftpes"], ftpTransport],
];

/** Every built-in transport; local files confined to `roots`. */
export function builtinTransports(roots: FileRoots): TransportTable {
  const table = new TransportTable();
  for (const [schemes, make] of BUILTIN) table.register(schemes, make({ roots }));
  return table;
}
