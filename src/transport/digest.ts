/**
 * What a job wrote, recognised later by its size and SHA-256: a
 * placeholder is removed, or refused as a source, only when the bytes
 * there are still exactly the ones the job wrote.
 *
 * @module
 */
import { createHash } from "node:crypto";

/** The size and SHA-256 of bytes a job wrote. */
export interface ContentDigest {
  size: number;
  sha256: string;
}

/** In place: Web Crypto's digest hops to another thread, costing ten times the hash of a few KiB. */
function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/**
 * The digest of `bytes`, journaled with the job that wrote them.
 *
 * @example
 * ```ts
 * digestOf(new Uint8Array([1, 2, 3])).size; // 3
 * ```
 */
export function digestOf(bytes: Uint8Array): ContentDigest {
  return { size: bytes.byteLength, sha256: sha256(bytes) };
}

/**
 * Whether `bytes` are the ones `digest` was taken of; hashes only when
 * the size matches.
 *
 * @example
 * ```ts
 * sameContent(bytes, digestOf(bytes)); // true
 * ```
 */
export function sameContent(bytes: Uint8Array, digest: ContentDigest): boolean {
  return bytes.byteLength === digest.size && sha256(bytes) === digest.sha256;
}
