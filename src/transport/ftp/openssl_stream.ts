/**
 * A TLS client stream on OpenSSL 3 (libssl.so.3 through Deno.dlopen), for
 * FTPS: unlike Deno's own TLS it can resume the control connection's TLS
 * session on a data connection, which most FTPS servers demand.
 *
 * OpenSSL never touches a socket: it reads and writes two memory BIOs, and
 * this module moves the ciphertext between them and a Deno.TcpConn. So no
 * native call blocks, and closing the socket (a time limit, an abort) ends
 * any wait at once.
 *
 * @module
 */
import { isIpLiteral } from "../../security/addresses.ts";
import { closeQuietly } from "../../resources.ts";

const SSL_ERROR_SSL = 1;
const SSL_ERROR_WANT_READ = 2;
const SSL_ERROR_WANT_WRITE = 3;
const SSL_ERROR_SYSCALL = 5;
const SSL_ERROR_ZERO_RETURN = 6;
const SSL_VERIFY_PEER = 1;
const SSL_CTRL_SET_TLSEXT_HOSTNAME = 55;
const TLSEXT_NAMETYPE_HOST_NAME = 0n;
const SSL_CTRL_SET_MIN_PROTO_VERSION = 123;
const BIO_C_SET_BUF_MEM_EOF_RETURN = 130;
const TLS1_2_VERSION = 0x0303n;
const CIPHERTEXT_CHUNK = 32 * 1024;
const MAX_PLAINTEXT_CALL = 64 * 1024;

const SYMBOLS = {
  TLS_client_method: { parameters: [], result: "pointer" },
  SSL_CTX_new: { parameters: ["pointer"], result: "pointer" },
  SSL_CTX_free: { parameters: ["pointer"], result: "void" },
  SSL_CTX_ctrl: { parameters: ["pointer", "i32", "i64", "pointer"], result: "i64" },
  SSL_CTX_set_verify: { parameters: ["pointer", "i32", "pointer"], result: "void" },
  SSL_CTX_set_default_verify_paths: { parameters: ["pointer"], result: "i32" },
  SSL_CTX_get_cert_store: { parameters: ["pointer"], result: "pointer" },
  X509_STORE_add_cert: { parameters: ["pointer", "pointer"], result: "i32" },
  PEM_read_bio_X509: { parameters: ["pointer", "pointer", "pointer", "pointer"], result: "pointer" },
  X509_free: { parameters: ["pointer"], result: "void" },
  BIO_new_mem_buf: { parameters: ["buffer", "i32"], result: "pointer" },
  BIO_s_mem: { parameters: [], result: "pointer" },
  BIO_new: { parameters: ["pointer"], result: "pointer" },
  BIO_free: { parameters: ["pointer"], result: "i32" },
  BIO_read: { parameters: ["pointer", "buffer", "i32"], result: "i32" },
  BIO_write: { parameters: ["pointer", "buffer", "i32"], result: "i32" },
  BIO_ctrl: { parameters: ["pointer", "i32", "i64", "pointer"], result: "i64" },
  BIO_ctrl_pending: { parameters: ["pointer"], result: "usize" },
  SSL_new: { parameters: ["pointer"], result: "pointer" },
  SSL_free: { parameters: ["pointer"], result: "void" },
  SSL_get_SSL_CTX: { parameters: ["pointer"], result: "pointer" },
  SSL_get_rbio: { parameters: ["pointer"], result: "pointer" },
  SSL_get_wbio: { parameters: ["pointer"], result: "pointer" },
  SSL_set_bio: { parameters: ["pointer", "pointer", "pointer"], result: "void" },
  SSL_set_connect_state: { parameters: ["pointer"], result: "void" },
  SSL_ctrl: { parameters: ["pointer", "i32", "i64", "buffer"], result: "i64" },
  SSL_set1_host: { parameters: ["pointer", "buffer"], result: "i32" },
  SSL_get0_param: { parameters: ["pointer"], result: "pointer" },
  X509_VERIFY_PARAM_set1_ip_asc: { parameters: ["pointer", "buffer"], result: "i32" },
  SSL_set_session: { parameters: ["pointer", "pointer"], result: "i32" },
  SSL_get1_session: { parameters: ["pointer"], result: "pointer" },
  SSL_SESSION_free: { parameters: ["pointer"], result: "void" },
  SSL_SESSION_is_resumable: { parameters: ["pointer"], result: "i32" },
  SSL_do_handshake: { parameters: ["pointer"], result: "i32" },
  SSL_read: { parameters: ["pointer", "buffer", "i32"], result: "i32" },
  SSL_write: { parameters: ["pointer", "buffer", "i32"], result: "i32" },
  SSL_shutdown: { parameters: ["pointer"], result: "i32" },
  SSL_get_error: { parameters: ["pointer", "i32"], result: "i32" },
  SSL_is_init_finished: { parameters: ["pointer"], result: "i32" },
  SSL_get_verify_result: { parameters: ["pointer"], result: "i64" },
  X509_verify_cert_error_string: { parameters: ["i64"], result: "pointer" },
  ERR_get_error: { parameters: [], result: "u64" },
  ERR_error_string_n: { parameters: ["u64", "buffer", "usize"], result: "void" },
  ERR_clear_error: { parameters: [], result: "void" },
} as const satisfies Deno.ForeignLibraryInterface;

type Ssl = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

// Debian and most Linux systems ship OpenSSL 3 under the first name, macOS
// package managers under the second.
const LIBRARY_NAMES = ["libssl.so.3", "libssl.3.dylib"];
let loaded: Ssl | null | undefined;

/**
 * OpenSSL's functions, or null where libssl 3 cannot be loaded (then FTPS
 * falls back to Deno's TLS). Loaded once and kept for the process.
 */
export function openSsl(): Ssl | null {
  if (loaded !== undefined) return loaded;
  loaded = null;
  for (const name of LIBRARY_NAMES) {
    try {
      loaded = Deno.dlopen(name, SYMBOLS).symbols;
      break;
    } catch {
      // Not here (or not allowed): try the next name, else fall back.
    }
  }
  return loaded;
}

const encoder = new TextEncoder();
const live = { connections: 0, sessions: 0 };

/**
 * How many OpenSSL connections (SSL, with their BIOs) and kept sessions
 * this module holds now: 0 and 0 once every FTPS session has ended, on
 * every path (contexts are kept, at most 4). For leak tests and benches.
 */
export function openSslLiveObjects(): { connections: number; sessions: number } {
  return { ...live };
}

function cString(text: string): Uint8Array<ArrayBuffer> {
  return encoder.encode(text + "\0");
}

/** Every message in OpenSSL's error queue (emptying it), joined. */
function drainErrors(lib: Ssl): string {
  const texts: string[] = [];
  const buf = new Uint8Array(256);
  for (let code = lib.ERR_get_error(); code !== 0n; code = lib.ERR_get_error()) {
    lib.ERR_error_string_n(code, buf, BigInt(buf.byteLength));
    texts.push(new TextDecoder().decode(buf.subarray(0, buf.indexOf(0))));
  }
  return texts.join("; ");
}

/** Options of {@linkcode OpenSslStream.connect}. */
export interface OpenSslOptions {
  /** The name or IP address the certificate must be for (from the URL). */
  hostname: string;
  /** Extra trusted roots (PEM), besides the system's. */
  caCerts: string[];
  /**
   * The control connection whose TLS session this (data) connection resumes;
   * its settings (trusted roots, versions) are shared too.
   */
  resumeFrom?: OpenSslStream;
}

/**
 * One TLS connection over a Deno.TcpConn. Reads, writes and the handshake
 * are asynchronous only in their socket I/O. One call at a time (the FTP
 * client never overlaps them); close() may come at any moment.
 *
 * @example
 * ```ts
 * const tls = OpenSslStream.connect(tcp, { hostname: "ftp.example.com", caCerts: [] })!;
 * await tls.handshake();
 * await tls.write(new TextEncoder().encode("PBSZ 0\r\n"));
 * ```
 */
export class OpenSslStream {
  readonly #lib: Ssl;
  readonly #conn: Deno.TcpConn;
  #ssl: Deno.PointerValue;
  readonly #rbio: Deno.PointerValue;
  readonly #wbio: Deno.PointerValue;
  /** The latest resumable session offered by a data connection, for the next one. */
  #next: Deno.PointerValue = null;
  readonly #control?: OpenSslStream;
  readonly #incoming = new Uint8Array(CIPHERTEXT_CHUNK);
  readonly #outgoing = new Uint8Array(CIPHERTEXT_CHUNK);
  #busy = 0;
  #closed = false;
  #sawEof = false;
  #shutDown = false;
  #handshake?: Promise<void>;

  private constructor(lib: Ssl, conn: Deno.TcpConn, ssl: Deno.PointerValue, control?: OpenSslStream) {
    this.#lib = lib;
    this.#conn = conn;
    this.#ssl = ssl;
    this.#rbio = lib.SSL_get_rbio(ssl);
    this.#wbio = lib.SSL_get_wbio(ssl);
    this.#control = control;
  }

  /**
   * Sets up TLS on `conn` (the handshake runs on the first read, write or
   * `handshake()`); null where OpenSSL is not available. Takes over `conn`.
   */
  static connect(conn: Deno.TcpConn, options: OpenSslOptions): OpenSslStream | null {
    const lib = openSsl();
    if (!lib) return null;
    lib.ERR_clear_error();
    const control = options.resumeFrom;
    const ctx = control ? control.#context() : contextFor(lib, options.caCerts);
    let ssl: Deno.PointerValue = null;
    try {
      ssl = lib.SSL_new(ctx);
      if (!ssl) throw new Error(`TLS setup failed: ${drainErrors(lib)}`);
      live.connections++;
      const read = lib.BIO_new(lib.BIO_s_mem());
      const write = read && lib.BIO_new(lib.BIO_s_mem());
      if (!read || !write) {
        if (read) lib.BIO_free(read);
        throw new Error(`TLS setup failed: ${drainErrors(lib)}`);
      }
      lib.SSL_set_bio(ssl, read, write); // The SSL owns (and frees) both BIOs from here.
      lib.SSL_set_connect_state(ssl);
      checkName(lib, ssl, options.hostname.replace(/^\[(.*)\]$/, "$1"));
      if (control) control.#lendSession(ssl);
      const stream = new OpenSslStream(lib, conn, ssl, control);
      ssl = null;
      return stream;
    } finally {
      if (ssl) freeSsl(lib, ssl);
    }
  }

  /** Runs the handshake (once); rejects with OpenSSL's reasons. */
  handshake(): Promise<void> {
    this.#handshake ??= this.#run(() => this.#lib.SSL_do_handshake(this.#ssl), "handshaking").then(() => {});
    return this.#handshake;
  }

  /** Reads decrypted bytes into `buf`; null at the end (close_notify or the socket's end). */
  async read(buf: Uint8Array): Promise<number | null> {
    await this.handshake();
    const size = Math.min(buf.byteLength, MAX_PLAINTEXT_CALL);
    const n = await this.#run(() => this.#lib.SSL_read(this.#ssl, buf, size), "reading", true);
    if (n > 0) return n;
    if (!this.#sawEof) await this.#answerClose();
    return null;
  }

  /**
   * Answers the peer's close_notify with ours, half-closes and reads to the
   * socket's end: a server that sees a reset instead (vsftpd) answers 426
   * to a download it sent whole.
   */
  async #answerClose(): Promise<void> {
    await this.#shutdown();
    try {
      while (await this.#conn.read(this.#incoming) !== null) {
        // Nothing may follow close_notify; whatever comes is dropped.
      }
    } catch {
      // A reset after both close_notify messages loses nothing.
    }
    this.#sawEof = true;
  }

  /** Encrypts and sends up to 64 KiB of `bytes`; returns how many were taken. */
  async write(bytes: Uint8Array): Promise<number> {
    await this.handshake();
    const size = Math.min(bytes.byteLength, MAX_PLAINTEXT_CALL);
    if (size === 0) return 0;
    return await this.#run(() => this.#lib.SSL_write(this.#ssl, bytes, size), "writing");
  }

  /**
   * Sends close_notify, then half-closes the socket. The caller should read
   * to the end before close(): a server that sees a reset instead (vsftpd)
   * answers 426 to an upload that arrived whole.
   */
  async closeWrite(): Promise<void> {
    await this.handshake();
    await this.#shutdown();
  }

  async #shutdown(): Promise<void> {
    if (this.#shutDown) return;
    this.#shutDown = true;
    // SSL_shutdown returns 0 for "sent, the peer's is still to come": done for us.
    await this.#run(() => Math.max(this.#lib.SSL_shutdown(this.#ssl), 1), "closing TLS");
    await this.#conn.closeWrite();
  }

  /** Closes the socket; the native objects are freed once no call is running. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    closeQuietly(this.#conn);
    if (this.#busy === 0) this.#free();
  }

  /** Closes, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  #free(): void {
    const lib = this.#lib;
    if (this.#control && this.#ssl && lib.SSL_is_init_finished(this.#ssl) === 1) {
      // With TLS 1.3 a server may take each ticket once: the next data
      // connection resumes with the newest one this connection received.
      this.#control.#offerSession(lib.SSL_get1_session(this.#ssl));
    }
    this.#keep(null);
    if (this.#ssl) freeSsl(lib, this.#ssl);
    this.#ssl = null;
  }

  /** This connection's context (settings and roots); SSL_new takes its own reference. */
  #context(): Deno.PointerValue {
    if (this.#closed) throw new Deno.errors.BadResource("the TLS control connection is closed");
    return this.#lib.SSL_get_SSL_CTX(this.#ssl);
  }

  #lendSession(ssl: Deno.PointerValue): void {
    const lib = this.#lib;
    const own = lib.SSL_get1_session(this.#ssl);
    try {
      const session = this.#next ?? own;
      if (session) lib.SSL_set_session(ssl, session); // Takes its own reference.
    } finally {
      if (own) lib.SSL_SESSION_free(own);
    }
  }

  #offerSession(session: Deno.PointerValue): void {
    const lib = this.#lib;
    if (!session) return;
    if (this.#closed || lib.SSL_SESSION_is_resumable(session) !== 1) return lib.SSL_SESSION_free(session);
    this.#keep(session);
  }

  /** Replaces the kept session (taking over the caller's reference). */
  #keep(session: Deno.PointerValue): void {
    if (this.#next) {
      this.#lib.SSL_SESSION_free(this.#next);
      live.sessions--;
    }
    this.#next = session;
    if (session) live.sessions++;
  }

  /**
   * Calls `op` until OpenSSL has what it needs, moving ciphertext between
   * the BIOs and the socket. `eofIsEnd`: the socket's end (after the
   * handshake) reads as 0 instead of an error.
   */
  async #run(op: () => number, what: string, eofIsEnd = false): Promise<number> {
    if (this.#closed) throw new Deno.errors.BadResource("the TLS connection is closed");
    this.#busy++;
    try {
      while (true) {
        this.#lib.ERR_clear_error();
        const result = op();
        const error = result > 0 ? 0 : this.#lib.SSL_get_error(this.#ssl, result);
        const reason = error === SSL_ERROR_SSL || error === SSL_ERROR_SYSCALL ? this.#failure() : "";
        await this.#flush();
        if (result > 0) return result;
        if (error === SSL_ERROR_ZERO_RETURN) return 0;
        if (error === SSL_ERROR_WANT_WRITE) continue;
        if (error !== SSL_ERROR_WANT_READ) {
          if (this.#sawEof && eofIsEnd && this.#lib.SSL_is_init_finished(this.#ssl) === 1) return 0;
          throw new Error(`OpenSSL ${what}: ${reason || "the connection ended"}`);
        }
        if (this.#sawEof) {
          if (eofIsEnd) return 0;
          throw new Error(`OpenSSL ${what}: the server closed the connection`);
        }
        await this.#fill();
      }
    } finally {
      this.#busy--;
      if (this.#closed && this.#busy === 0) this.#free();
    }
  }

  /** Why the last call failed: OpenSSL's error queue and the certificate check. */
  #failure(): string {
    const lib = this.#lib;
    const queue = drainErrors(lib);
    const verify = Number(lib.SSL_get_verify_result(this.#ssl));
    if (verify === 0) return queue;
    const text = lib.X509_verify_cert_error_string(BigInt(verify));
    const detail = text ? Deno.UnsafePointerView.getCString(text) : `error ${verify}`;
    return `${queue} (certificate: ${detail})`;
  }

  /** Sends whatever OpenSSL has written to the write BIO. */
  async #flush(): Promise<void> {
    const lib = this.#lib;
    while (!this.#closed) {
      const wbio = this.#wbio;
      if (Number(lib.BIO_ctrl_pending(wbio)) === 0) return;
      const out = this.#outgoing;
      const n = lib.BIO_read(wbio, out, out.byteLength);
      if (n <= 0) return;
      for (let at = 0; at < n;) at += await this.#conn.write(out.subarray(at, n));
    }
    throw new Deno.errors.BadResource("the TLS connection is closed");
  }

  /** Reads ciphertext from the socket into the read BIO. */
  async #fill(): Promise<void> {
    const n = await this.#conn.read(this.#incoming);
    if (this.#closed) throw new Deno.errors.BadResource("the TLS connection is closed");
    const rbio = this.#rbio;
    if (n === null) {
      this.#sawEof = true;
      // The read BIO now reports its end instead of "try again".
      this.#lib.BIO_ctrl(rbio, BIO_C_SET_BUF_MEM_EOF_RETURN, 0n, null);
      return;
    }
    this.#lib.BIO_write(rbio, this.#incoming, n);
  }
}

function freeSsl(lib: Ssl, ssl: Deno.PointerValue): void {
  lib.SSL_free(ssl);
  live.connections--;
}

// Loading the system roots takes tens of milliseconds, so a context is made
// once per set of extra roots (a server has one: --ca-file) and kept; each
// SSL holds its own reference, so dropping one from the cache is safe.
const MAX_CONTEXTS = 4;
const contexts = new Map<string, Deno.PointerValue>();

function contextFor(lib: Ssl, caCerts: string[]): Deno.PointerValue {
  const key = caCerts.join("\n");
  let ctx = contexts.get(key);
  if (ctx) return ctx;
  ctx = newContext(lib, caCerts);
  if (contexts.size >= MAX_CONTEXTS) {
    const [oldest, old] = contexts.entries().next().value!;
    contexts.delete(oldest);
    lib.SSL_CTX_free(old);
  }
  contexts.set(key, ctx);
  return ctx;
}

/** A client context: system roots plus `caCerts`, peer verification, TLS 1.2 at least. */
function newContext(lib: Ssl, caCerts: string[]): Deno.PointerValue {
  const ctx = lib.SSL_CTX_new(lib.TLS_client_method());
  if (!ctx) throw new Error(`TLS setup failed: ${drainErrors(lib)}`);
  try {
    lib.SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, null);
    lib.SSL_CTX_ctrl(ctx, SSL_CTRL_SET_MIN_PROTO_VERSION, TLS1_2_VERSION, null);
    // A machine without system roots still trusts --ca-file.
    lib.SSL_CTX_set_default_verify_paths(ctx);
    const store = lib.SSL_CTX_get_cert_store(ctx);
    for (const pem of caCerts) addCertificates(lib, store, pem);
    lib.ERR_clear_error();
    return ctx;
  } catch (err) {
    lib.SSL_CTX_free(ctx);
    throw err;
  }
}

/** Adds every certificate of a PEM text to `store`. */
function addCertificates(lib: Ssl, store: Deno.PointerValue, pem: string): void {
  const bytes = encoder.encode(pem);
  const bio = lib.BIO_new_mem_buf(bytes, bytes.byteLength);
  if (!bio) throw new Error(`TLS setup failed: ${drainErrors(lib)}`);
  try {
    for (let cert = lib.PEM_read_bio_X509(bio, null, null, null); cert;) {
      lib.X509_STORE_add_cert(store, cert); // Takes its own reference; a duplicate is harmless.
      lib.X509_free(cert);
      cert = lib.PEM_read_bio_X509(bio, null, null, null);
    }
  } finally {
    lib.BIO_free(bio);
  }
}

/** The certificate must name `host` (a DNS name, sent as SNI too, or an IP address). */
function checkName(lib: Ssl, ssl: Deno.PointerValue, host: string): void {
  const name = cString(host);
  const ok = isIpLiteral(host)
    ? lib.X509_VERIFY_PARAM_set1_ip_asc(lib.SSL_get0_param(ssl), name) === 1
    : lib.SSL_set1_host(ssl, name) === 1 &&
      Number(lib.SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_HOST_NAME, name)) === 1;
  if (!ok) throw new Error(`TLS setup failed for ${host}: ${drainErrors(lib) || "a name OpenSSL refuses"}`);
}
