/**
 * Gives a job's large buffers back as soon as the job is done with them.
 *
 * A worker's buffers live in the C heap, and V8 frees them only when a
 * garbage collection finds them unreachable; each worker collects on its
 * own schedule and lets tens of megabytes of dead pixels pile up before it
 * does, so two busy workers held 100-200 MB of dead buffers between them.
 * Detaching a buffer frees its memory at once.
 *
 * @module
 */

/** Smaller buffers are left to the garbage collector: freeing them early saves nothing that shows. */
const WORTH_FREEING = 256 * 1024;

/**
 * Frees the memory behind each view now. The caller must hold the only
 * use of it: every view of the buffer reads as empty afterwards. Buffers
 * that cannot be detached (a WebAssembly memory's) and detached ones are
 * left alone.
 *
 * @example
 * ```ts
 * const upright = turnUpright(stored, orientation);
 * release(stored.data); // the next job's buffers can reuse the memory
 * ```
 */
export function release(...views: (ArrayBufferView | ArrayBuffer | undefined)[]): void {
  for (const view of views) {
    const buffer = view instanceof ArrayBuffer ? view : view?.buffer;
    if (!(buffer instanceof ArrayBuffer) || buffer.detached || buffer.byteLength < WORTH_FREEING) continue;
    try {
      buffer.transfer(0);
    } catch {
      // a WebAssembly memory's buffer: it cannot be detached, and it is not ours to free
    }
  }
}
