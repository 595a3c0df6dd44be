/**
 * Messages over a byte stream (a child process's stdin and stdout): a JSON
 * head and a binary body, each preceded by its length as a 32-bit
 * big-endian number.
 *
 * @module
 */

/** One message: what it is, and the bytes it carries. */
export interface Frame<T> {
  head: T;
  body: Uint8Array;
}

/** Longest JSON head accepted; bodies are bounded by `maxBody`. */
const MAX_HEAD = 1024 * 1024;

/**
 * Reads frames from a stream, one at a time.
 *
 * @example
 * ```ts
 * const frames = new FrameReader(Deno.stdin.readable, 64 * 1024 * 1024);
 * const frame = await frames.next(); // undefined at the end of the stream
 * ```
 */
export class FrameReader<T> {
  #reader: ReadableStreamDefaultReader<Uint8Array>;
  #chunks: Uint8Array[] = [];
  #buffered = 0;
  #maxBody: number;

  constructor(stream: ReadableStream<Uint8Array>, maxBody: number) {
    this.#reader = stream.getReader();
    this.#maxBody = maxBody;
  }

  /** The next frame, or undefined when the stream ends between frames. */
  async next(): Promise<Frame<T> | undefined> {
    const headLength = await this.#length(MAX_HEAD, true);
    if (headLength === undefined) return undefined;
    const head = JSON.parse(new TextDecoder().decode(await this.#take(headLength))) as T;
    const body = await this.#take((await this.#length(this.#maxBody, false))!);
    return { head, body };
  }

  /** Stops reading; the stream is released. */
  async cancel(): Promise<void> {
    await this.#reader.cancel().catch(() => {});
  }

  async #length(max: number, mayEnd: boolean): Promise<number | undefined> {
    if (mayEnd && !(await this.#fill(1))) return undefined;
    const bytes = await this.#take(4);
    const length = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0);
    if (length > max) throw new Error(`a frame of ${length} bytes is over the limit of ${max}`);
    return length;
  }

  /** Buffers at least `n` bytes; false if the stream ended first. */
  async #fill(n: number): Promise<boolean> {
    while (this.#buffered < n) {
      const { value, done } = await this.#reader.read();
      if (done) return false;
      this.#chunks.push(value);
      this.#buffered += value.length;
    }
    return true;
  }

  async #take(n: number): Promise<Uint8Array> {
    if (!(await this.#fill(n))) throw new Error("the stream ended inside a frame");
    const out = new Uint8Array(n);
    let at = 0;
    while (at < n) {
      const chunk = this.#chunks[0];
      const part = Math.min(chunk.length, n - at);
      out.set(chunk.subarray(0, part), at);
      at += part;
      if (part === chunk.length) this.#chunks.shift();
      else this.#chunks[0] = chunk.subarray(part);
    }
    this.#buffered -= n;
    return out;
  }
}

/** Writes one frame. */
export async function writeFrame<T>(
  writer: WritableStreamDefaultWriter<Uint8Array>,
  head: T,
  body: Uint8Array = new Uint8Array(0),
): Promise<void> {
  const json = new TextEncoder().encode(JSON.stringify(head));
  // One write for the whole frame: a reader waiting on a pipe wakes once.
  const frame = new Uint8Array(8 + json.length + body.length);
  const view = new DataView(frame.buffer);
  view.setUint32(0, json.length);
  frame.set(json, 4);
  view.setUint32(4 + json.length, body.length);
  frame.set(body, 8 + json.length);
  await writer.write(frame);
}
