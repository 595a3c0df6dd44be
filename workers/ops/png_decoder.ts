/**
 * The PNG decoder of `@jsquash/png` (Rust's png crate), instantiated by us
 * rather than through its wasm-bindgen glue, which keeps one instance per
 * realm for good: here it can be made afresh, so the memory a large decode
 * grew is given back (decoder_memory.ts). Only `decode` is bound: it
 * takes the file's bytes and returns an ImageData, copied out of the
 * WebAssembly memory.
 *
 * @module
 */

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
        const data = new Uint8ClampedArray(bytes().subarray(ptr >>> 0, (ptr >>> 0) + len));
        e.__wbindgen_free(ptr, len, 1);
        return hold(new ImageData(data, width >>> 0, height >>> 0));
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
}

/** Makes the PNG decoder afresh, so the memory its last decode grew can be collected. */
export function resetPngDecoder(): void {
  if (compiled) png = instantiate(compiled);
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
  try {
    const ptr = e.__wbindgen_malloc(bytes.byteLength, 1) >>> 0;
    new Uint8Array(e.memory.buffer).set(bytes, ptr);
    // The Rust side frees its input.
    const image = handles[e.decode(ptr, bytes.byteLength) - 132] as ImageData;
    return image;
  } catch (err) {
    // A throw out of Rust leaves its heap in an unknown state: start a fresh instance.
    png = instantiate(compiled);
    throw err;
  } finally {
    handles = [];
  }
}
