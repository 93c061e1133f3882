import { describe, expect, it } from 'vitest';
import { f32, type Tensor } from '../../engine/tensor.js';
import { tensorShape, type MetricsValue } from '../../engine/values.js';
import { fillGaussian } from '../common/random.js';
import { expectClose, expectParity, runNode, runReference } from '../testing.js';
import { lowRankAttention, lowRankFactors, seededWeight, symmetricEigen } from './low-rank.js';

const gauss = (shape: number[], seed: number) => f32(shape, fillGaussian(new Float32Array(shape.reduce((a, b) => a * b, 1)), seed));

describe('block.low-rank-attention (LED)', () => {
  it('eigen-decomposes a symmetric matrix (by hand: [[2, 1], [1, 2]] has 3 and 1)', () => {
    const { values, vectors } = symmetricEigen(Float64Array.from([2, 1, 1, 2]), 2);
    expectClose(values, [3, 1], { atol: 1e-12 });
    expect(Math.abs(vectors[0]!)).toBeCloseTo(Math.SQRT1_2, 12); // (1, 1)/√2 for 3
    expect(vectors[0]! * vectors[2]!).toBeGreaterThan(0);
  });

  it('keeps the top singular directions (Eckart–Young): rank 1 of diag(3, 1) is diag(3, 0); full rank is exact', () => {
    const W = Float32Array.from([3, 0, 0, 1, 0, 0]); // [C = 3, M = 2]
    const { E, F } = lowRankFactors(W, 3, 2, 1);
    const W1 = Array.from({ length: 6 }, (_, i) => E[Math.floor(i / 2)]! * F[i % 2]!);
    expectClose(W1, [3, 0, 0, 0, 0, 0], { atol: 1e-6 });
    const R = seededWeight(6, 5, 1, 3, 0);
    const f = lowRankFactors(R, 6, 5, 5);
    const back = Array.from({ length: 30 }, (_, i) => { const [c, m] = [Math.floor(i / 5), i % 5]; let a = 0; for (let k = 0; k < 5; k++) a += f.E[c * 5 + k]! * f.F[k * 5 + m]!; return a; });
    expectClose(back, R, { atol: 1e-5 });
  });

  it('with C = 1 each projection is a scalar: attention of two tokens by hand', () => {
    const p = lowRankAttention.params.parse({ heads: 1, headDim: 1, causal: true, seed: 2 });
    const [wq, wk, wv] = [0, 1, 2].map((s) => seededWeight(1, 1, 1, 2, s)[0]!);
    const x = [0.7, -1.2];
    const q1 = wq * x[1]!;
    const [k0, k1] = [wk * x[0]!, wk * x[1]!];
    const [v0, v1] = [wv * x[0]!, wv * x[1]!];
    const a = 1 / (1 + Math.exp(q1 * k1 - q1 * k0));
    const out = runReference(lowRankAttention, { x: f32([2, 1], x) }, p).out as Tensor;
    expectClose(out.data, [v0, a * v0 + (1 - a) * v1], { atol: 1e-6 });
  });

  for (const backend of ['cpu', 'wasm'] as const)
    it(`matches its reference on ${backend} (full rank and rank 3, causal or not)`, async () => {
      const x = gauss([21, 12], 1);
      for (const causal of [true, false])
        for (const rank of [undefined, 3])
          await expectParity(lowRankAttention, backend, { x }, { heads: 2, headDim: 4, rank, causal, seed: 4 }, { atol: 2e-5, rtol: 1e-4 });
    });

  it('counts r·(C + H·D) weights per projection, and the output nears the full-rank layer as r grows', async () => {
    const x = gauss([32, 32], 2);
    const run = async (rank?: number) => runNode(lowRankAttention, { x }, { heads: 2, headDim: 16, rank, seed: 1 });
    const full = (await run()).out as Tensor;
    const err = async (rank: number) => {
      const o = (await run(rank)).out as Tensor;
      let num = 0;
      let den = 0;
      for (let i = 0; i < full.data.length; i++) {
        num += (o.data[i]! - full.data[i]!) ** 2;
        den += full.data[i]! ** 2;
      }
      return Math.sqrt(num / den);
    };
    const [e2, e8, e32] = [await err(2), await err(8), await err(32)];
    expect(e2).toBeGreaterThan(e8);
    expect(e8).toBeGreaterThan(0);
    expect(e32).toBeLessThan(1e-5); // rank ≥ min(C, H·D) is the full-rank layer
    const m = ((await run(8)).metrics as MetricsValue).values;
    expect(m.paramCount).toBe(3 * 8 * (32 + 32));
    expect(m.fullParamCount).toBe(3 * 32 * 32);
    expect(m.projectionFlops).toBe(3 * 2 * 32 * 8 * 64);
    expect(m.paramRatio).toBe(0.5);
    expect(() => lowRankAttention.infer({ x: tensorShape('float32', [2, 4, 8]) }, lowRankAttention.params.parse({}))).toThrow(/batch must be 1/);
  });
});
