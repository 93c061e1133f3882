import { describe, expect, it } from 'vitest';
import { ShapeError } from '../../engine/node.js';
import { f32, type Tensor } from '../../engine/tensor.js';
import { tensorShape } from '../../engine/values.js';
import { fillGaussian } from '../common/random.js';
import { expectClose, expectParity, runNode, runReference } from '../testing.js';
import { qkvProjection, qkvWeights } from './qkv-projection.js';

const x = (T: number, C: number, seed = 1) => f32([T, C], fillGaussian(new Float32Array(T * C), seed, 99), ['T', 'C']);
const P = { heads: 4, kvHeads: 2, headDim: 8, seed: 5 };

describe('qkv-projection', () => {
  for (const backend of ['cpu', 'wasm'] as const) {
    it(`matches the reference on ${backend} (GQA 4/2 heads)`, async () => {
      await expectParity(qkvProjection, backend, { x: x(37, 24) }, P, { atol: 2e-5, rtol: 1e-5 });
    });
  }

  it('puts head h of q in columns h·D … h·D + D − 1 of x·W_q', () => {
    // x = one-hot rows: q[h, t, d] must be W_q[c_t, h·D + d] for the hot channel c_t.
    const C = 6;
    const X = f32([2, C], [0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    const { wq, wk } = qkvWeights(qkvProjection.params.parse(P), C);
    const out = runReference(qkvProjection, { x: X }, P);
    const q = out.q as Tensor;
    const k = out.k as Tensor;
    expect(q.shape).toEqual([4, 2, 8]);
    expect(k.shape).toEqual([2, 2, 8]);
    for (const [t, c] of [[0, 2], [1, 5]] as const)
      for (let h = 0; h < 4; h++)
        for (let d = 0; d < 8; d++) expect(q.data[(h * 2 + t) * 8 + d]).toBe(wq[c * 32 + h * 8 + d]);
    expect(k.data[(1 * 2 + 1) * 8 + 3]).toBe(wk[5 * 16 + 8 + 3]);
  });

  it('is linear: proj(2·a + b) = 2·proj(a) + proj(b)', () => {
    const a = x(5, 16, 1);
    const b = x(5, 16, 2);
    const ab = f32([5, 16], a.data.map((v, i) => 2 * v + b.data[i]!));
    const [pa, pb, pab] = [a, b, ab].map((t) => runReference(qkvProjection, { x: t }, P));
    for (const port of ['q', 'k', 'v'])
      expectClose((pab![port] as Tensor).data, (pa![port] as Tensor).data.map((v, i) => 2 * v + (pb![port] as Tensor).data[i]!), { atol: 1e-5 });
  });

  it('keeps unit variance: W ~ N(0, 1/C)', async () => {
    const out = await runNode(qkvProjection, { x: x(64, 256) }, { heads: 4, headDim: 32, seed: 0 });
    const q = Array.from((out.q as Tensor).data);
    const variance = q.reduce((s, v) => s + v * v, 0) / q.length;
    // 8192 outputs from 64 inputs rows: the variance estimate is within ±0.15 of 1 with a wide margin.
    expect(Math.abs(variance - 1)).toBeLessThan(0.15);
  });

  it('infers shapes and names the port on bad input', () => {
    const p = qkvProjection.params.parse(P);
    const s = qkvProjection.infer({ x: tensorShape('float32', [null, 24]) }, p);
    expect(s.q?.shape).toEqual([4, null, 8]);
    expect(s.k?.shape).toEqual([2, null, 8]);
    expect(() => qkvProjection.infer({ x: tensorShape('float32', [3, 4, 5]) }, p)).toThrow(ShapeError);
    expect(() => qkvProjection.infer({ x: tensorShape('float32', [3, 4]) }, qkvProjection.params.parse({ heads: 4, kvHeads: 3 }))).toThrow(/kvHeads \(3\) must divide heads \(4\)/);
    const c = qkvProjection.cost!({ x: tensorShape('float32', [10, 24]) }, p, s);
    expect(c.flops).toBe(2 * 10 * 24 * (4 + 2 * 2) * 8);
  });
});
