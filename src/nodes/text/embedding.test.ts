import { describe, expect, it } from 'vitest';
import type { Tensor } from '../../engine/tensor.js';
import type { TokensValue } from '../../engine/values.js';
import { runNode, runReference } from '../testing.js';
import { embedding } from './embedding.js';

const toks = (ids: number[]): TokensValue => ({
  kind: 'tokens',
  ids: Int32Array.from(ids),
  offsets: Int32Array.from(ids.flatMap((_, i) => [i, i + 1])),
  text: 'x'.repeat(ids.length),
  encoding: 'cl100k_base',
});
const row = (t: Tensor, i: number) => Array.from(t.data.subarray(i * t.shape[1]!, (i + 1) * t.shape[1]!));

describe('embedding', () => {
  it('gives [T, dim] rows that depend only on (seed, id)', async () => {
    const a = (await runNode(embedding, { tokens: toks([5, 9, 5, 200000]) }, { dim: 16, seed: 3 })).out as Tensor;
    expect(a.shape).toEqual([4, 16]);
    expect(a.dims).toEqual(['T', 'C']);
    expect(row(a, 0)).toEqual(row(a, 2));
    expect(row(a, 0)).not.toEqual(row(a, 1));
    // Same id elsewhere in another sequence: same row. Another seed: another row.
    const b = (await runNode(embedding, { tokens: toks([1, 2, 5]) }, { dim: 16, seed: 3 })).out as Tensor;
    expect(row(b, 2)).toEqual(row(a, 0));
    const c = (await runNode(embedding, { tokens: toks([5]) }, { dim: 16, seed: 4 })).out as Tensor;
    expect(row(c, 0)).not.toEqual(row(a, 0));
    expect(runReference(embedding, { tokens: toks([5, 9, 5, 200000]) }, { dim: 16, seed: 3 }).out).toEqual(a);
  });

  it('rows are standard normal and nearly orthogonal', async () => {
    const ids = Array.from({ length: 64 }, (_, i) => 1000 + 37 * i);
    const e = (await runNode(embedding, { tokens: toks(ids) }, { dim: 512, seed: 0 })).out as Tensor;
    const x = Array.from(e.data);
    const mean = x.reduce((a, b) => a + b, 0) / x.length;
    const variance = x.reduce((a, b) => a + (b - mean) ** 2, 0) / x.length;
    // 32768 samples: the standard error of the mean is 0.0055, of the variance 0.008.
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(variance - 1)).toBeLessThan(0.05);
    // cos(row i, row j) ~ N(0, 1/512): |cos| < 0.25 is beyond 5.6 standard deviations.
    for (let i = 1; i < 64; i++) {
      const [a, b] = [row(e, 0), row(e, i)];
      const cos = a.reduce((s, v, k) => s + v * b[k]!, 0) / Math.sqrt(a.reduce((s, v) => s + v * v, 0) * b.reduce((s, v) => s + v * v, 0));
      expect(Math.abs(cos)).toBeLessThan(0.25);
    }
  });

  it('infers [T, dim] with T unknown until run time', () => {
    const s = embedding.infer({ tokens: { kind: 'tokens', shape: [null] } }, embedding.params.parse({ dim: 32 }));
    expect(s.out).toEqual({ kind: 'tensor', dtype: 'float32', shape: [null, 32], dims: ['T', 'C'] });
    expect(() => embedding.infer({ tokens: { kind: 'text' } }, embedding.params.parse({}))).toThrow(/tokens/);
    expect(() => embedding.params.parse({ dim: 0 })).toThrow();
  });
});
