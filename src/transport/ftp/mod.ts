/**
 * The FTP transport for ftp: (plain), ftps: (implicit TLS) and ftpes:
 * (explicit TLS with AUTH TLS) URLs.
 *
 * @module
 */
import { ImgserveError } from "../../../protocol/error_codes.ts";
import type { Transport } from "../mod.ts";
import { FtpClient } from "./client.ts";
import { parseFtpUrl } from "./url.ts";
import { type JobWrite, keptName, tempName, tempNamesOf } from "../../../shared/keep.ts";
import { beside } from "../../../shared/paths.ts";

export { FtpClient } from "./client.ts";
export type { FtpEndpoint, FtpSecurity, FtpSide } from "./client.ts";
export { parseFtpUrl } from "./url.ts";

/**
 * Reads with RETR as a stream; writes with STOR to a temporary name in the
 * same folder, then RNFR/RNTO, creating missing folders with MKD.
 *
 * @example
 * ```ts
 * new TransportTable().register(["ftp", "ftps", "ftpes"], ftpTransport());
 * ```
 */
export const ftpTransport = (): Transport => ({
  async read(url, options) {
    const { endpoint, path } = parseFtpUrl(url);
    const client = await FtpClient.connect(endpoint, "source", options);
    try {
      return await client.download(path);
    } catch (err) {
      client.close();
      throw err;
    }
  },

  async write(url, bytes, options) {
    const { endpoint, path } = parseFtpUrl(url);
    using client = await FtpClient.connect(endpoint, "destination", options);
    const kept = await storeAtomically(client, path, bytes, options.job);
    await client.quit();
    return { kept };
  },

  async settle(url, job, outcome, options) {
    const { endpoint, path } = parseFtpUrl(url);
    using client = await FtpClient.connect(endpoint, "destination", options);
    const kept = beside(path, keptName(job));
    if (outcome === "done") await client.remove(kept).catch(() => {});
    else await renameOver(client, kept, path);
    await client.quit();
  },

  async remove(url, options) {
    const { endpoint, path } = parseFtpUrl(url);
    using client = await FtpClient.connect(endpoint, "destination", options);
    await client.remove(path);
    await client.quit();
  },

  async cleanUp(url, job, options) {
    const { endpoint, path } = parseFtpUrl(url);
    using client = await FtpClient.connect(endpoint, "destination", options);
    for (const name of tempNamesOf(job)) await client.remove(beside(path, name)).catch(() => {});
    await client.quit();
  },

  identity(url) {
    const { endpoint, path } = parseFtpUrl(url);
    // ftp:, ftps: and ftpes: on one host and port reach the same files.
    return `ftp://${endpoint.user}@${endpoint.hostname}:${endpoint.port}/${path}`;
  },
});

/**
 * Uploads under a temporary name and renames it into place, so a reader
 * never sees half a file. The temporary file is removed when anything fails.
 * A placeholder first moves the file it replaces aside under the job's kept
 * name (put back if the rename fails); resolves true when it did.
 */
async function storeAtomically(
  client: FtpClient,
  path: string,
  bytes: Uint8Array,
  job?: JobWrite,
): Promise<boolean> {
  const temp = beside(path, tempName(job));
  const kept = job?.stage === "placeholder" ? beside(path, keptName(job.id)) : undefined;
  let existing = false;
  if (kept) {
    existing = (await client.sizeOf(path)) !== undefined;
    if (!existing && await client.isFolder(path)) {
      throw new ImgserveError("DESTINATION_IS_FOLDER", `the destination ${path} is a folder; name a file in it`);
    }
  }
  let moved = false;
  try {
    try {
      await client.upload(temp, bytes);
    } catch (err) {
      // Trying first keeps the common case (the folder exists) to one STOR.
      if (!isRefusal(err) || !(await makeFolders(client, beside(path, "")))) throw err;
      await client.upload(temp, bytes);
    }
    if (kept && existing) {
      await renameOver(client, path, kept);
      moved = true;
    }
    await renameOver(client, temp, path);
  } catch (err) {
    await client.remove(temp).catch(() => {});
    if (moved) await client.rename(kept!, path).catch(() => {});
    throw err;
  }
  return moved;
}

/** Renames, replacing `to`; some servers refuse to rename onto a file. */
async function renameOver(
  client: FtpClient,
  from: string,
  to: string,
): Promise<void> {
  try {
    await client.rename(from, to);
  } catch (err) {
    if (!isRefusal(err)) throw err;
    await client.remove(to).catch(() => {});
    await client.rename(from, to).catch(() => Promise.reject(err));
  }
}

/** MKD for every level of `folder` (with its trailing slash); true when at least one was created. */
async function makeFolders(
  client: FtpClient,
  folder: string,
): Promise<boolean> {
  const parts = folder.split("/");
  let created = false;
  for (let i = 1; i < parts.length; i++) {
    const level = parts.slice(0, i).join("/");
    if (level !== "") created = (await client.makeFolder(level)) || created;
  }
  return created;
}

function isRefusal(err: unknown): boolean {
  return err instanceof ImgserveError &&
    err.name === "DESTINATION_NOT_WRITABLE";
}
