// The `probe` output: the attention map pooled to at most 256×256 per head, only when connected.
import { describe, expect, it } from 'vitest';
import { f32, type Tensor } from '../../engine/tensor.js';
import { tensorShape } from '../../engine/values.js';
import { fillGaussian } from '../common/random.js';
import { expectClose, expectParity, runNode } from '../testing.js';
import { attention } from './index.js';

const col = (xs: number[]) => f32([1, xs.length, 1], xs);
const rand = (shape: number[], seed: number): Tensor => f32(shape, fillGaussian(new Float32Array(shape.reduce((a, b) => a * b)), seed, ...shape));

async function probeOf(ins: { q: Tensor; k: Tensor; v: Tensor }, params: Record<string, unknown>): Promise<Tensor> {
  return (await runNode(attention, ins, params, { connected: ['out', 'probe'] })).probe as Tensor;
}

describe('attention probe', () => {
  it('is computed only when connected', async () => {
    const ins = { q: col([0, 0]), k: col([1, 2]), v: col([1, 2]) };
    const outs = await runNode(attention, ins, { variant: 'naive' }, { connected: ['out'] });
    expect(outs.probe).toBeUndefined();
  });

  it('infer reports [H, min(256, Tq), min(256, Tk)]', () => {
    const shapes = (H: number, Tq: number, Tk: number) =>
      attention.infer(
        { q: tensorShape('float32', [H, Tq, 64]), k: tensorShape('float32', [2, Tk, 64]), v: tensorShape('float32', [2, Tk, 64]), bias: undefined, cache: undefined },
        attention.params.parse({ variant: 'flash' }),
      ).probe?.shape;
    expect(shapes(8, 4096, 4096)).toEqual([8, 256, 256]);
    expect(shapes(4, 1, 300)).toEqual([4, 1, 256]);
    expect(shapes(2, 100, 100)).toEqual([2, 100, 100]);
  });

  it('hand-checked 2×2 maps: exact, a window of 1, ReLU', async () => {
    const zeros = { q: col([0, 0]), k: col([1, 2]), v: col([1, 2]) };
    expectClose((await probeOf(zeros, { variant: 'naive' })).data, [1, 0, 0.5, 0.5]);
    expectClose((await probeOf(zeros, { variant: 'sliding-window', window: 1 })).data, [1, 0, 0, 1]);
    // relu(q·k)/n: row 0 sees k0 (relu 1, n 1); row 1 sees k0, k1 (relu 1 and 0, n 2).
    expectClose((await probeOf({ q: col([1, 1]), k: col([1, -2]), v: col([0, 0]) }, { variant: 'relu', scale: 1 })).data, [1, 0, 0.5, 0]);
  });

  it('linear attention shows exact attention\'s map', async () => {
    const ins = { q: rand([1, 6, 2], 1), k: rand([1, 6, 2], 2), v: rand([1, 6, 1], 3) };
    expectClose((await probeOf(ins, { variant: 'linear' })).data, (await probeOf(ins, { variant: 'naive' })).data, { atol: 1e-6 });
  });

  it('pools 300 positions into 256 bins: every softmax row still averages to a distribution', async () => {
    const T = 300;
    const ins = { q: rand([2, T, 4], 4), k: rand([1, T, 4], 5), v: rand([1, T, 2], 6) };
    const probe = await probeOf(ins, { variant: 'longformer', window: 20, globalTokens: 2 });
    expect(probe.shape).toEqual([2, 256, 256]);
    // Bin b holds the positions t with ⌊t·256/300⌋ = b; a bin's mean times its size is its mass.
    const size = new Array(256).fill(0);
    for (let t = 0; t < T; t++) size[Math.floor((t * 256) / T)]++;
    for (let h = 0; h < 2; h++)
      for (let a = 0; a < 256; a += 17) {
        let mass = 0;
        for (let b = 0; b < 256; b++) mass += probe.data[(h * 256 + a) * 256 + b]! * size[b];
        expect(mass).toBeCloseTo(1, 5);
      }
  });

  for (const backend of ['cpu', 'wasm', 'webgpu'] as const)
    it(`pooled maps match the plain-TS reference on ${backend} (Tq < Tk, sparse and dilated patterns)`, async () => {
      const ins = { q: rand([2, 90, 4], 7), k: rand([1, 300, 4], 8), v: rand([1, 300, 2], 9) };
      await expectParity(attention, backend, ins, { variant: 'bigbird', blockSize: 16, seed: 2 }, { atol: 1e-6, rtol: 1e-4 });
      await expectParity(attention, backend, ins, { variant: 'dilated', segmentLengths: [32, 300], dilationRates: [1, 8] }, { atol: 1e-6, rtol: 1e-4 });
    });
});
