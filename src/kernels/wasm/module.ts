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

/**
 * A kernel made on first use by `make`; `unavailable()` says why it cannot start (e.g. no wasm SIMD),
 * else undefined. The single-threaded kernels and the pool's shared ones both load this way.
 */
export function lazyKernel<K>(what: string, make: () => K) {
  let kernel: K | undefined;
  let reason: string | undefined;
  const load = (): K => (kernel ??= make());
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

/** First free byte after a module's static data, 64-byte aligned. */
export const heapBaseOf = (exports: { __heap_base: WebAssembly.Global }) => (Number(exports.__heap_base.value) + 63) & ~63;

/** A single-threaded kernel over its own growable memory, made on first use (lazyKernel). */
export function singleThreadKernel<E extends { __heap_base: WebAssembly.Global }>(base64: string, what: string) {
  return lazyKernel(what, (): SingleThreadKernel<E> => {
    const memory = new WebAssembly.Memory({ initial: 16, maximum: 65536 });
    const exports = new WebAssembly.Instance(new WebAssembly.Module(decodeBase64(base64)), { env: { memory } }).exports as unknown as E;
    return { memory, exports, heapBase: heapBaseOf(exports) };
  });
}
