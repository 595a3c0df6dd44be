/**
 * The PNG decoder of `@jsquash/png` (Rust's png crate), instantiated by us
 * rather than through its wasm-bindgen glue, which keeps one instance per
 * realm for good: here it can be made afresh, so the memory a large decode
 * grew is given back (decoder_memory.ts). Only `decode` is bound: it
 * takes the file's bytes and returns an ImageData.
 *
 * The pixels are lent, not copied: the ImageData is a view of the
 * decoder's memory, where they were decoded, and they are freed there when
 * the next decode starts. A worker runs one job at a time and only its
 * decode calls the decoder, so the view stays whole for the job; the copy
 * cost a 2.8 MP PNG's job 11 MB more of the C heap, and the time to copy.
 * A decode that grew the memory by WORTH_DROPPING or more is copied out as
 * before: decoder_memory.ts may then make the decoder afresh, and the view
 * must not keep the old memory alive through the encode.
 *
 * @module
 */
import { WORTH_DROPPING } from "../../protocol/plan_memory.ts";

interface PngExports {
  memory: WebAssembly.Memory;
  decode(ptr: number, len: number): number;
  __wbindgen_malloc(size: number, align: number): number;
  __wbindgen_free(ptr: number, size: number, align: number): void;
}

let compiled: WebAssembly.Module | undefined;
let png: PngExports | undefined;
/** Values handed to the module by index, as wasm-bindgen's glue does (its first 132 slots are reserved). */
let handles: unknown[] = [];
/** The pixels the last decode left in the decoder's memory, and their size: freed by the next decode. */
interface Lent {
  ptr: number;
  len: number;
  width: number;
  height: number;
}
let lent: Lent | undefined;

function instantiate(module: WebAssembly.Module): PngExports {
  handles = [];
  const hold = (value: unknown) => handles.push(value) - 1 + 132;
  const bytes = () => new Uint8Array(e.memory.buffer);
  const wbg: Record<string, (...args: number[]) => unknown> = {};
  for (const { name } of WebAssembly.Module.imports(module)) {
    // wasm-bindgen suffixes its imports with a hash: they are matched by what they do.
    if (name === "__wbindgen_memory") wbg[name] = () => hold(e.memory);
    else if (name.startsWith("__wbg_buffer_")) {
      wbg[name] = (at) => hold((handles[at - 132] as WebAssembly.Memory).buffer);
    } else if (name.startsWith("__wbg_newwithbyteoffsetandlength_")) {
      wbg[name] = (at, offset, length) =>
        hold(new Uint16Array(handles[at - 132] as ArrayBuffer, offset >>> 0, length >>> 0));
    } else if (name === "__wbindgen_object_drop_ref") wbg[name] = () => undefined;
    else if (name.startsWith("__wbg_newwithownedu8clampedarrayandsh_")) {
      wbg[name] = (ptr, len, width, height) => {
        // Kept where it is; decodePngFile makes the view once the decode has returned.
        lent = { ptr: ptr >>> 0, len: len >>> 0, width: width >>> 0, height: height >>> 0 };
        return hold(lent);
      };
    } else if (name === "__wbindgen_throw") {
      wbg[name] = (ptr, len) => {
        throw new Error(new TextDecoder().decode(bytes().subarray(ptr >>> 0, (ptr >>> 0) + len)));
      };
    } else {wbg[name] = () => {
        throw new Error(`the PNG decoder called ${name}, which is not bound`);
      };}
  }
  const e = new WebAssembly.Instance(module, { wbg }).exports as unknown as PngExports;
  return e;
}

/** Instantiates the compiled PNG decoder in this realm. */
export function initPngDecoder(module: WebAssembly.Module): void {
  compiled = module;
  png = instantiate(module);
  lent = undefined;
}

/** Makes the PNG decoder afresh, so the memory its last decode grew can be collected. */
export function resetPngDecoder(): void {
  if (compiled) png = instantiate(compiled);
  lent = undefined;
}

/**
 * Decodes a whole PNG file to 8-bit RGBA.
 *
 * @example
 * ```ts
 * const image = decodePngFile(bytes);
 * ```
 */
export function decodePngFile(bytes: Uint8Array): ImageData {
  if (!png || !compiled) throw new Error("the PNG decoder is not initialised");
  const e = png;
  if (lent) e.__wbindgen_free(lent.ptr, lent.len, 1);
  lent = undefined;
  const before = e.memory.buffer.byteLength;
  try {
    const ptr = e.__wbindgen_malloc(bytes.byteLength, 1) >>> 0;
    new Uint8Array(e.memory.buffer).set(bytes, ptr);
    // The Rust side frees its input.
    const out = handles[e.decode(ptr, bytes.byteLength) - 132] as Lent;
    const view = new Uint8ClampedArray(e.memory.buffer as ArrayBuffer, out.ptr, out.len);
    if (e.memory.buffer.byteLength - before < WORTH_DROPPING) return new ImageData(view, out.width, out.height);
    const copy = new ImageData(new Uint8ClampedArray(view), out.width, out.height);
    e.__wbindgen_free(out.ptr, out.len, 1);
    lent = undefined;
    return copy;
  } catch (err) {
    // A throw out of Rust leaves its heap in an unknown state: start a fresh instance.
    png = instantiate(compiled);
    lent = undefined;
    throw err;
  } finally {
    handles = [];
  }
}
