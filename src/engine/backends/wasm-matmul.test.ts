import { describe, expect, it } from 'vitest';
import type { Tensor, Tensor2D, Tensor3D } from '@tensorflow/tfjs-core';
import { initBackend } from './tf.js';
import { nodeBackendSetup } from '../node/setup.js';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';

/** Plain-TS product of [batch, M, K]·[batch, K, N] given as row-major operands, each maybe stored transposed. */
function reference(a: Float32Array, b: Float32Array, batch: number, M: number, K: number, N: number, tA: boolean, tB: boolean): number[] {
  const out: number[] = [];
  for (let s = 0; s < batch; s++)
    for (let i = 0; i < M; i++)
      for (let j = 0; j < N; j++) {
        let acc = 0;
        for (let k = 0; k < K; k++) {
          const av = tA ? a[s * K * M + k * M + i]! : a[s * M * K + i * K + k]!;
          const bv = tB ? b[s * N * K + j * K + k]! : b[s * K * N + k * N + j]!;
          acc += av * bv;
        }
        out.push(acc);
      }
  return out;
}

describe('wasm BatchMatMul: transposes first, batched products on the SIMD kernel', () => {
  it('equals the plain product for every transpose flag, rank 2 and 3, and its gradients equal the cpu backend\'s', async () => {
    const { tf } = await initBackend('wasm', nodeBackendSetup('vitest'));
    expect((tf.getKernel('BatchMatMul', 'wasm') as { transposeFree?: boolean }).transposeFree).toBe(true);
    for (const [M, K, N] of [[5, 7, 3], [9, 6, 13], [8, 16, 16]] as const)
    for (const batch of [1, 4])
      for (const tA of [false, true])
        for (const tB of [false, true]) {
          const a = Float32Array.from({ length: batch * M * K }, (_, i) => Math.sin(i * 0.7) * 2);
          const b = Float32Array.from({ length: batch * K * N }, (_, i) => Math.cos(i * 0.3) - 0.5);
          const shapeA = tA ? [K, M] : [M, K];
          const shapeB = tB ? [N, K] : [K, N];
          const before = tf.memory().numTensors;
          const got = tf.tidy(() => {
            const A = batch === 1 ? tf.tensor(a, shapeA) : tf.tensor(a, [batch, ...shapeA]);
            const B = batch === 1 ? tf.tensor(b, shapeB) : tf.tensor(b, [batch, ...shapeB]);
            return Array.from(tf.matMul(A as Tensor3D, B as Tensor3D, tA, tB).dataSync());
          });
          expect(tf.memory().numTensors).toBe(before);
          const want = reference(a, b, batch, M, K, N, tA, tB);
          for (let i = 0; i < want.length; i++) expect(got[i], `batch ${batch} tA ${tA} tB ${tB} [${i}]`).toBeCloseTo(want[i]!, 4);
        }
    // Broadcast batch dims and rank 4, against the cpu backend.
    const product = (sa: number[], sb: number[]) => {
      const a = tf.tensor(Float32Array.from({ length: sa.reduce((x, y) => x * y, 1) }, (_, i) => Math.sin(i * 1.3)), sa);
      const b = tf.tensor(Float32Array.from({ length: sb.reduce((x, y) => x * y, 1) }, (_, i) => Math.cos(i * 0.9)), sb);
      const c = tf.matMul(a as Tensor3D, b as Tensor3D);
      return { shape: c.shape, data: Array.from(c.dataSync()) };
    };
    for (const [sa, sb] of [[[1, 5, 6], [3, 6, 10]], [[3, 5, 6], [1, 6, 10]], [[2, 3, 5, 6], [2, 3, 6, 9]], [[2, 3, 5, 6], [6, 9]], [[5, 6], [2, 6, 9]]]) {
      const got = product(sa!, sb!);
      await tf.setBackend('cpu');
      const want = product(sa!, sb!);
      await tf.setBackend('wasm');
      expect(got.shape, `[${sa}]·[${sb}]`).toEqual(want.shape);
      for (let i = 0; i < want.data.length; i++) expect(got.data[i], `[${sa}]·[${sb}] [${i}]`).toBeCloseTo(want.data[i]!, 4);
    }
    // The gradients (which use transposed products) against the cpu backend's.
    const grads = () => {
      const x = tf.tensor2d(Float32Array.from({ length: 12 }, (_, i) => i * 0.1 - 0.4), [3, 4]);
      const w = tf.tensor2d(Float32Array.from({ length: 8 }, (_, i) => 0.3 - i * 0.05), [4, 2]);
      const g = tf.grads((x: Tensor, w: Tensor) => tf.sum(tf.square(tf.matMul(x as Tensor2D, w as Tensor2D))))([x, w]);
      return g.map((t) => Array.from(t.dataSync()));
    };
    const onWasm = grads();
    await tf.setBackend('cpu');
    const onCpu = grads();
    await tf.setBackend('wasm');
    for (let t = 0; t < 2; t++) for (let i = 0; i < onCpu[t]!.length; i++) expect(onWasm[t]![i]).toBeCloseTo(onCpu[t]![i]!, 5);
  });
});
