import { describe, expect, it } from 'vitest';
import { initBackend } from './tf.js';
import { nodeBackendSetup } from '../node/setup.js';

describe('wasm Slice (heap view instead of a full copy)', () => {
  it('equals the cpu backend on contiguous and strided slices of rank 1 to 5', async () => {
    const { tf } = await initBackend('wasm', nodeBackendSetup('vitest'));
    expect((tf.getKernel('Slice', 'wasm') as { fast?: boolean }).fast).toBe(true);
    const shapes = [[17], [5, 9], [4, 6, 7], [3, 4, 5, 6], [2, 3, 2, 4, 3]];
    let seed = 1;
    const rand = (n: number) => ((seed = (seed * 16807) % 2147483647) % n);
    for (const shape of shapes) {
      const n = shape.reduce((a, b) => a * b, 1);
      const data = Float32Array.from({ length: n }, (_, i) => i * 0.5 - 3);
      for (let trial = 0; trial < 20; trial++) {
        const begin = shape.map((d) => rand(d));
        const size = shape.map((d, i) => 1 + rand(d - begin[i]!));
        await tf.setBackend('wasm');
        const x = tf.tensor(data, shape);
        const got = Array.from(tf.slice(x, begin, size).dataSync());
        await tf.setBackend('cpu');
        const want = Array.from(tf.slice(tf.tensor(data, shape), begin, size).dataSync());
        expect(got, `slice of [${shape}] at [${begin}] size [${size}]`).toEqual(want);
      }
    }
    await tf.setBackend('wasm');
  });
});
