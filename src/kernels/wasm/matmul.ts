// The batched matrix product of matmul.c: C[s] = A[s]·B[s], row-major f32, a batch stride of 0
// broadcasting an operand. One instance over its own memory (grown as needed), single-threaded;
// operands are copied in and the product out (O(size), against O(M·N·K) work).
import { singleThreadKernel } from './module.js';
import { matmulWasmBase64 } from './matmul.wasm.js';

interface MatmulExports {
  bmm(batch: number, M: number, K: number, N: number, a: number, b: number, c: number, aStride: number, bStride: number): void;
  __heap_base: WebAssembly.Global;
}

const { load } = singleThreadKernel<MatmulExports>(matmulWasmBase64, 'wasm matmul kernel');

/**
 * out[s] = a[s]·b[s] for s < batch: a holds [M, K] matrices `aStride` elements apart (0: one shared),
 * b holds [K, N] ones `bStride` apart; out is [batch, M, N].
 */
export function batchedMatMul(a: Float32Array, b: Float32Array, out: Float32Array, batch: number, M: number, K: number, N: number, aStride: number, bStride: number): void {
  const k = load();
  const align = (n: number) => (n + 63) & ~63;
  const aAt = k.heapBase;
  const bAt = aAt + align(a.byteLength);
  const cAt = bAt + align(b.byteLength);
  const top = cAt + out.byteLength;
  if (top > k.memory.buffer.byteLength) {
    try {
      k.memory.grow(Math.ceil((top - k.memory.buffer.byteLength) / 65536));
    } catch {
      throw new Error(`batched matMul needs ${(top / 2 ** 20).toFixed(0)} MiB of wasm memory, more than it can hold (4 GiB)`);
    }
  }
  new Float32Array(k.memory.buffer, aAt, a.length).set(a);
  new Float32Array(k.memory.buffer, bAt, b.length).set(b);
  k.exports.bmm(batch, M, K, N, aAt, bAt, cAt, aStride, bStride);
  out.set(new Float32Array(k.memory.buffer, cAt, out.length));
}
