// What every wasm kernel host shares: the committed module's bytes from base64 (Node or browser), and
// for a single-threaded kernel (matmul) one lazily made instance over its own growable memory, with
// the reason it cannot start kept for the node's fallback message. The threaded kernels (attention,
// scan, quantize) are made by pool.ts.

export function decodeBase64(base64: string): Uint8Array<ArrayBuffer> {
  if (typeof Buffer !== 'undefined') return Uint8Array.from(Buffer.from(base64, 'base64'));
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
}

export interface SingleThreadKernel<E> {
  memory: WebAssembly.Memory;
  exports: E;
  /** First free byte after the module's data, 64-byte aligned. */
  heapBase: number;
}

/** A kernel made on first use; `unavailable()` says why it cannot start (e.g. no wasm SIMD), else undefined. */
export function singleThreadKernel<E extends { __heap_base: WebAssembly.Global }>(base64: string, what: string) {
  let kernel: SingleThreadKernel<E> | undefined;
  let reason: string | undefined;
  const load = (): SingleThreadKernel<E> => {
    if (kernel) return kernel;
    const memory = new WebAssembly.Memory({ initial: 16, maximum: 65536 });
    const exports = new WebAssembly.Instance(new WebAssembly.Module(decodeBase64(base64)), { env: { memory } }).exports as unknown as E;
    kernel = { memory, exports, heapBase: (Number(exports.__heap_base.value) + 63) & ~63 };
    return kernel;
  };
  const unavailable = (): string | undefined => {
    if (kernel || reason) return reason;
    try {
      load();
    } catch (err) {
      reason = `the ${what} cannot start: ${(err as Error).message}`;
    }
    return reason;
  };
  return { load, unavailable };
}
