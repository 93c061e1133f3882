// tfjs-backend-wasm's Slice copies the WHOLE input out of the wasm heap (readSync) before taking
// the slice, so slicing a tile out of a [T, D] tensor costs O(T·D): tiled kernels became quadratic
// in overhead at long T. This Slice reads through a view of the heap instead: O(slice).
import * as tf from '@tensorflow/tfjs-core';

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: string): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

export function registerFastWasmSlice(): void {
  const original = tf.getKernel('Slice', 'wasm');
  if (!original || (original as { fast?: boolean }).fast) return;
  const kernelFunc: tf.KernelFunc = (args) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    if (x.dtype === 'string') return original.kernelFunc(args);
    const { begin, size } = args.attrs as unknown as { begin: number[]; size: number[] };
    const backend = args.backend as unknown as WasmBackendLike;
    const [begin_, size_] = tf.slice_util.parseSliceParams(x as tf.Tensor, begin, size);
    // Allocate first: growing the heap detaches earlier views.
    const out = backend.makeOutput(size_, x.dtype);
    const xVals = backend.typedArrayFromHeap(x);
    const outVals = backend.typedArrayFromHeap(out);
    const strides = tf.util.computeStrides(x.shape);
    if (tf.slice_util.isSliceContinous(x.shape, begin_, size_)) {
      const offset = tf.slice_util.computeFlatOffset(begin_, strides);
      outVals.set(xVals.subarray(offset, offset + tf.util.sizeFromShape(size_)));
      return out;
    }
    // General case: copy the innermost rows one at a time.
    const rank = x.shape.length;
    const inner = size_[rank - 1]!;
    const outer = tf.util.sizeFromShape(size_.slice(0, -1));
    // Strides of the outer dims of the output ([...size_.slice(0, -1), 1] has them all).
    const outerStrides = tf.util.computeStrides([...size_.slice(0, -1), 1]);
    for (let r = 0; r < outer; r++) {
      let rem = r;
      let offset = begin_[rank - 1]!;
      for (let d = 0; d < rank - 1; d++) {
        const stride = outerStrides[d]!;
        const idx = Math.floor(rem / stride);
        rem -= idx * stride;
        offset += (begin_[d]! + idx) * strides[d]!;
      }
      outVals.set(xVals.subarray(offset, offset + inner), r * inner);
    }
    return out;
  };
  tf.unregisterKernel('Slice', 'wasm');
  tf.registerKernel({ kernelName: 'Slice', backendName: 'wasm', kernelFunc, fast: true } as tf.KernelConfig);
}
