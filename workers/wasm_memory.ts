/**
 * The WebAssembly memory this realm's codecs hold, measured from inside.
 *
 * The codec packages keep their instances to themselves (Emscripten and
 * wasm-bindgen glue alike), so every instance made in this realm is noted
 * as it is made, with each memory it exports or imports. A memory only
 * grows, so its size is the high-water mark of every job it served.
 *
 * @module
 */

/** Weak, so a codec instance dropped after a failure is not kept alive by being counted. */
const memories: WeakRef<WebAssembly.Memory>[] = [];
let tracking = false;

function note(instance: WebAssembly.Instance, imports?: WebAssembly.Imports): void {
  const found = new Set<WebAssembly.Memory>();
  for (const value of Object.values(instance.exports)) if (value instanceof WebAssembly.Memory) found.add(value);
  for (const namespace of Object.values(imports ?? {})) {
    for (const value of Object.values(namespace)) if (value instanceof WebAssembly.Memory) found.add(value);
  }
  const known = new Set(memories.map((ref) => ref.deref()));
  for (const memory of found) if (!known.has(memory)) memories.push(new WeakRef(memory));
}

/**
 * Notes every WebAssembly instance made in this realm from now on. Call it
 * before any codec is instantiated.
 *
 * @example
 * ```ts
 * trackWasmMemories();
 * await initCodecs(modules);
 * wasmMemoryBytes(); // the codecs' memories, in bytes
 * ```
 */
export function trackWasmMemories(): void {
  if (tracking) return;
  tracking = true;
  const Instance = WebAssembly.Instance;
  // A proxy rather than a subclass: `x instanceof WebAssembly.Instance` stays true for every instance.
  WebAssembly.Instance = new Proxy(Instance, {
    construct(target, args, newTarget) {
      const instance = Reflect.construct(target, args, newTarget) as WebAssembly.Instance;
      note(instance, args[1]);
      return instance;
    },
  });
  const instantiate = WebAssembly.instantiate;
  WebAssembly.instantiate = (async (source: BufferSource | WebAssembly.Module, imports?: WebAssembly.Imports) => {
    const result = await instantiate(source as WebAssembly.Module, imports);
    note(result instanceof Instance ? result : (result as WebAssembly.WebAssemblyInstantiatedSource).instance, imports);
    return result;
  }) as typeof WebAssembly.instantiate;
}

/** The bytes of every live WebAssembly memory noted so far. */
export function wasmMemoryBytes(): number {
  let total = 0;
  for (let i = memories.length - 1; i >= 0; i--) {
    const memory = memories[i].deref();
    if (memory) total += memory.buffer.byteLength;
    else memories.splice(i, 1);
  }
  return total;
}
