// tfjs-backend-wasm's BatchMatMul is fast only without transposes: with transposeA or transposeB it
// runs several times slower (measured on [1024,128]ᵀ·[1024,384]: 5–8×). Every matMul gradient has
// one (dA = dY·Bᵀ, dB = Aᵀ·dY), and so does attention's Q·Kᵀ. This BatchMatMul transposes the operand
// first (a memory-bound copy, O(size)) and runs the fast path: O(M·N·K) work at its speed.
// Batched products (batch × heads of attention) are slow in tfjs-wasm even untransposed: those run
// on the lab's register-blocked SIMD kernel (src/kernels/wasm/matmul.c).
import * as tf from '@tensorflow/tfjs-core';
import { batchedMatMul } from '../../kernels/wasm/matmul.js';

interface WasmBackendLike {
  disposeData(dataId: tf.DataId): void;
  makeOutput(shape: number[], dtype: string): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

const size = (dims: number[]) => dims.reduce((n, d) => n * d, 1);

/**
 * a [...batch, M, K]·b [...batch, K, N] on the SIMD kernel when there is a batch (one side's may be
 * all 1s: broadcast); undefined for a single product or batch dims that broadcast elementwise.
 */
function batched(backend: WasmBackendLike, a: tf.TensorInfo, b: tf.TensorInfo): tf.TensorInfo | undefined {
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return undefined;
  const [M, K] = a.shape.slice(-2) as [number, number];
  const N = b.shape[b.shape.length - 1]!;
  const aBatch = a.shape.slice(0, -2);
  const bBatch = b.shape.slice(0, -2);
  const [na, nb] = [size(aBatch), size(bBatch)];
  const batch = Math.max(na, nb);
  if (batch <= 1) return undefined;
  let dims: number[];
  if (na === nb && aBatch.length === bBatch.length && aBatch.every((d, i) => d === bBatch[i])) dims = aBatch;
  else if (na === 1) dims = bBatch.length >= aBatch.length ? bBatch : [...aBatch.slice(0, aBatch.length - bBatch.length), ...bBatch];
  else if (nb === 1) dims = aBatch.length >= bBatch.length ? aBatch : [...bBatch.slice(0, bBatch.length - aBatch.length), ...aBatch];
  else return undefined;
  // Allocate first: growing the heap detaches earlier views.
  const out = backend.makeOutput([...dims, M, N], 'float32');
  const av = backend.typedArrayFromHeap(a) as Float32Array;
  const bv = backend.typedArrayFromHeap(b) as Float32Array;
  batchedMatMul(av, bv, backend.typedArrayFromHeap(out) as Float32Array, batch, M, K, N, na === 1 ? 0 : M * K, nb === 1 ? 0 : K * N);
  return out;
}

/** Swaps the last two dims: the perm of a matrix transpose over any batch dims. */
const lastTwoSwapped = (rank: number) => [...Array.from({ length: rank - 2 }, (_, i) => i), rank - 1, rank - 2];

let stock: tf.KernelConfig | undefined;

export function registerTransposeFreeWasmMatMul(): void {
  const original = tf.getKernel('BatchMatMul', 'wasm');
  const transpose = tf.getKernel('Transpose', 'wasm');
  if (!original || !transpose || (original as { transposeFree?: boolean }).transposeFree) return;
  stock = original;
  const kernelFunc: tf.KernelFunc = (args) => {
    const { transposeA, transposeB } = args.attrs as unknown as { transposeA: boolean; transposeB: boolean };
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const backend = args.backend as unknown as WasmBackendLike;
    if (!transposeA && !transposeB) return batched(backend, a, b) ?? original.kernelFunc(args);
    const temporaries: tf.TensorInfo[] = [];
    const transposed = (x: tf.TensorInfo) => {
      const t = transpose.kernelFunc({ inputs: { x }, backend: args.backend, attrs: { perm: lastTwoSwapped(x.shape.length) } }) as tf.TensorInfo;
      temporaries.push(t);
      return t;
    };
    try {
      const [a2, b2] = [transposeA ? transposed(a) : a, transposeB ? transposed(b) : b];
      return batched(backend, a2, b2) ?? original.kernelFunc({ ...args, inputs: { a: a2, b: b2 }, attrs: { ...args.attrs, transposeA: false, transposeB: false } });
    } finally {
      for (const t of temporaries) backend.disposeData(t.dataId);
    }
  };
  tf.unregisterKernel('BatchMatMul', 'wasm');
  // setupFunc binds the wasm export when the backend starts: the original's, kept.
  tf.registerKernel({ kernelName: 'BatchMatMul', backendName: 'wasm', setupFunc: original.setupFunc, kernelFunc, transposeFree: true } as tf.KernelConfig);
}

/** Puts tfjs's own BatchMatMul back (benchmarks measure the stock kernel as a baseline); returns a function that re-installs ours. */
export function useStockWasmMatMul(): () => void {
  const ours = tf.getKernel('BatchMatMul', 'wasm');
  if (!stock || !ours || ours === stock) return () => {};
  tf.unregisterKernel('BatchMatMul', 'wasm');
  tf.registerKernel(stock);
  return () => {
    tf.unregisterKernel('BatchMatMul', 'wasm');
    tf.registerKernel(ours);
  };
}
