/**
 * The schemes imgserve speaks, registered in one place.
 *
 * @module
 */
import { fileTransport } from "./file.ts";
import { httpTransport } from "./http.ts";
import { registerTransport } from "./mod.ts";

/** Registers every built-in transport. Safe to call more than once. */
export function registerBuiltinTransports(): void {
  registerTransport(["file"], fileTransport);
  registerTransport(["http", "https"], httpTransport);
}
