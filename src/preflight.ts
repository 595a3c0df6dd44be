/**
 * Start-up checks of what the configuration names: folders, files, the
 * journal and the listening socket. Each failure becomes a
 * {@linkcode ConfigError}: one line that names the flag, the value and what
 * to do, which `imgserve run` prints and `imgserve start` finds in the log.
 *
 * @module
 */
import { type Config, secretProblem } from "./config.ts";
import { isPostgres, type Journal, openJournal } from "./journal/mod.ts";
import { maskCredentials } from "./log.ts";
import { FileRoots } from "./security/files.ts";

/** A misconfiguration found at start-up; its message is the whole report. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/** The OS's reason, without Deno's "(os error N)" and call details. */
function reason(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/\s*\(os error \d+\)/, "").replace(/:\s*[a-z]+( '.*')?$/, "");
}

async function requireFolder(flag: string, path: string, purpose: string): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new ConfigError(`${flag} ${path}: no such folder; create it, or give an existing ${purpose}`);
    }
    throw new ConfigError(`${flag} ${path}: cannot be read (${reason(err)}); give a readable ${purpose}`);
  }
  if (!info.isDirectory) throw new ConfigError(`${flag} ${path}: not a folder; give a ${purpose}`);
  try {
    for await (const _ of Deno.readDir(path)) break;
  } catch (err) {
    throw new ConfigError(`${flag} ${path}: cannot be read (${reason(err)}); give a readable ${purpose}`);
  }
}

/**
 * Resolves the `--file-root` folders, each of which must be a readable
 * folder; with a shared journal only when they are declared shared.
 */
export async function checkFileRoots(config: Config): Promise<FileRoots> {
  const { fileRoots, sharedFileRoots } = config.access;
  if (isPostgres(config.jobs.kv) && fileRoots.length > 0 && !sharedFileRoots) {
    throw new ConfigError(
      `--file-root ${fileRoots[0]}: with --journal any server may run a job, so file:// paths must name the same ` +
        "files on every server: mount the same folders on each and add --shared-file-roots, or drop --file-root",
    );
  }
  for (const root of config.access.fileRoots) await requireFolder("--file-root", root, "folder for file:// URLs");
  return await FileRoots.resolve(config.access.fileRoots);
}

/** Each `--font-dir` must be a readable folder; the system ones may be missing. */
export async function checkFontDirs(config: Config): Promise<void> {
  for (const dir of config.extraFontDirs) await requireFolder("--font-dir", dir, "folder of fonts");
}

/** The PEM text of `--ca-file`, which must hold at least one certificate that parses. */
export async function loadCaFile(config: Config): Promise<string[]> {
  const path = config.caFile;
  if (!path) return [];
  let pem: string;
  try {
    pem = await Deno.readTextFile(path);
  } catch (err) {
    throw new ConfigError(`--ca-file ${path}: cannot be read (${reason(err)}); give a readable PEM file`);
  }
  if (!pem.includes("-----BEGIN CERTIFICATE-----")) {
    throw new ConfigError(`--ca-file ${path}: holds no PEM certificate ("-----BEGIN CERTIFICATE-----")`);
  }
  try {
    Deno.createHttpClient({ caCerts: [pem] }).close();
  } catch (err) {
    throw new ConfigError(`--ca-file ${path}: a certificate in it does not parse (${reason(err)})`);
  }
  return [pem];
}

/**
 * Opens the journal: the `--data-dir` must be creatable and writable, the
 * `--kv` location must open. `log` hears when writes fail and recover.
 */
export async function openConfiguredJournal(config: Config, log?: (line: string) => void): Promise<Journal> {
  const { kv, dataDir, keepFinishedMs } = config.jobs;
  if (dataDir !== undefined) {
    try {
      await Deno.mkdir(dataDir, { recursive: true });
      await Deno.remove(await Deno.makeTempFile({ dir: dataDir, prefix: ".imgserve-write-test-" }));
    } catch (err) {
      throw new ConfigError(
        `--data-dir ${dataDir}: cannot be created or written (${reason(err)}); give a writable folder`,
      );
    }
  }
  if (isPostgres(kv)) {
    try {
      return await openJournal(kv, { keepFinishedMs, log });
    } catch (err) {
      throw new ConfigError(
        `--journal ${maskCredentials(kv)}: cannot be reached or set up (${reason(err)}); ` +
          "check that PostgreSQL runs there and the user may create tables",
      );
    }
  }
  try {
    return await openJournal(kv, { keepFinishedMs, log });
  } catch (err) {
    const flag = dataDir === undefined ? `--kv ${kv}` : `--data-dir ${dataDir}: the journal ${kv}`;
    throw new ConfigError(`${flag} will not open (${reason(err)}); give a writable file, a KV URL or :memory:`);
  }
}

/**
 * Tries the listening address before the workers start, so a busy port is
 * reported at once; the real listen is checked again (the port may be
 * taken in between).
 */
export function checkListen(config: Config): void {
  try {
    Deno.listen({ hostname: config.host, port: config.port }).close();
  } catch (err) {
    throw listenError(config, err);
  }
}

/** Turns a failed listen into the line that says which flag to change. */
export function listenError(config: Config, err: unknown): ConfigError {
  const where = `${config.host}:${config.port}`;
  if (err instanceof Deno.errors.AddrInUse) {
    return new ConfigError(
      `--port ${config.port}: ${where} is already in use (another imgserve?); stop that program or give another --port`,
    );
  }
  if (err instanceof Deno.errors.PermissionDenied) {
    return new ConfigError(
      `--port ${config.port}: ports below 1024 need privileges; give a --port of 1024 or more, ` +
        `or grant CAP_NET_BIND_SERVICE`,
    );
  }
  return new ConfigError(
    `--host ${config.host}: cannot listen on ${where} (${reason(err)}); give an address of this machine ` +
      `such as 127.0.0.1 or 0.0.0.0`,
  );
}

/** Most bytes of a secret file: a token or a webhook secret is a line, not a document. */
const MAX_SECRET_FILE_BYTES = 4096;

/**
 * The configuration with `--token-file` and `--callback-secret-file` read:
 * the file's text without its trailing line break, checked as the flag's
 * value would be.
 */
export async function loadSecretFiles(config: Config): Promise<Config> {
  const read = async (flag: "token" | "callback-secret", path: string | undefined, given: string | undefined) => {
    if (path === undefined) return given;
    const source = `--${flag}-file ${path}`;
    if (given !== undefined) throw new ConfigError(`${source}: --${flag} is given too; give only one of them`);
    let text: string;
    try {
      using file = await Deno.open(path);
      const buffer = new Uint8Array(MAX_SECRET_FILE_BYTES + 1);
      let filled = 0;
      while (filled < buffer.length) {
        const n = await file.read(buffer.subarray(filled));
        if (n === null) break;
        filled += n;
      }
      if (filled > MAX_SECRET_FILE_BYTES) {
        throw new ConfigError(`${source}: longer than ${MAX_SECRET_FILE_BYTES} bytes; put only the ${flag} in it`);
      }
      text = new TextDecoder().decode(buffer.subarray(0, filled)).replace(/\r?\n$/, "");
    } catch (err) {
      if (err instanceof ConfigError) throw err;
      throw new ConfigError(`${source}: cannot be read (${reason(err)}); give a readable file holding the ${flag}`);
    }
    if (text === "") throw new ConfigError(`${source}: the file is empty; put the ${flag} in it`);
    const problem = secretProblem(flag, text, `${source}: its content`);
    if (problem) throw new ConfigError(problem);
    return text;
  };
  return {
    ...config,
    callbackSecret: await read("callback-secret", config.secretFiles.callbackSecret, config.callbackSecret),
    access: { ...config.access, token: await read("token", config.secretFiles.token, config.access.token) },
  };
}
