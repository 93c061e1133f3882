// tfjs-backend-wasm's BatchMatMul is fast only without transposes: with transposeA or transposeB it
// runs several times slower (measured on [1024,128]ᵀ·[1024,384]: 5–8×). Every matMul gradient has
// one (dA = dY·Bᵀ, dB = Aᵀ·dY), and so does attention's Q·Kᵀ. This BatchMatMul transposes the operand
// first (a memory-bound copy, O(size)) and runs the fast path: O(M·N·K) work at its speed.
import * as tf from '@tensorflow/tfjs-core';

interface WasmBackendLike {
  disposeData(dataId: tf.DataId): void;
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
    if (!transposeA && !transposeB) return original.kernelFunc(args);
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const temporaries: tf.TensorInfo[] = [];
    const transposed = (x: tf.TensorInfo) => {
      const t = transpose.kernelFunc({ inputs: { x }, backend: args.backend, attrs: { perm: lastTwoSwapped(x.shape.length) } }) as tf.TensorInfo;
      temporaries.push(t);
      return t;
    };
    try {
      return original.kernelFunc({
        ...args,
        inputs: { a: transposeA ? transposed(a) : a, b: transposeB ? transposed(b) : b },
        attrs: { ...args.attrs, transposeA: false, transposeB: false },
      });
    } finally {
      for (const t of temporaries) (args.backend as unknown as WasmBackendLike).disposeData(t.dataId);
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
