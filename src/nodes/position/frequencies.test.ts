// The frequency rules against values computed independently from the papers' / HF's formulas
// (PLATFORM.md "Reference facts", head dim 128).
import { describe, expect, it } from 'vitest';
import { f32, type Tensor } from '../../engine/tensor.js';
import type { MetricsValue } from '../../engine/values.js';
import { runReference } from '../testing.js';
import { alibiSlopes } from './alibi.js';
import { position } from './index.js';
import { longropeAttentionFactor } from './longrope.js';
import { yarnMscale } from './yarn.js';

const D = 128;
/** q, k of one head at T positions (zeros: only frequencies and metrics matter here). */
const qk = (T = 1, d = D) => ({ q: f32([1, T, d]), k: f32([1, T, d]) });
/** Frequencies and metrics of a variant; `end` sets the sequence end L through positionOffset. */
function freqs(params: Record<string, unknown>, L = 1) {
  const out = runReference(position, qk(), { positionOffset: L - 1, ...params });
  return { inv: (out.frequencies as Tensor).data as Float32Array, m: (out.metrics as MetricsValue).values as Record<string, any> };
}
const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

describe('position frequencies', () => {
  it('default RoPE: inv_i = 10000^(−2i/D)', () => {
    const { inv, m } = freqs({ variant: 'rope' });
    expect(inv.length).toBe(64);
    expect(inv[0]).toBe(1);
    expect(rel(inv[1]!, 0.8659643233600653)).toBeLessThan(1e-7);
    expect(rel(inv[63]!, 1.1547819846894582e-4)).toBeLessThan(1e-7);
    expect(m.unchangedDims).toBe(64);
  });

  it('linear (PI) divides every frequency by the factor', () => {
    const { inv, m } = freqs({ variant: 'linear', factor: 4 });
    expect(rel(inv[1]!, 0.8659643233600653 / 4)).toBeLessThan(1e-7);
    expect(m.dividedDims).toBe(64);
    expect(m.unchangedDims).toBe(0);
  });

  it('NTK keeps inv_0 and divides the lowest frequency by exactly the factor', () => {
    const { inv, m } = freqs({ variant: 'ntk', factor: 4 });
    expect(m.base).toBeCloseTo(10000 * 4 ** (128 / 126), 6);
    expect(inv[0]).toBe(1);
    expect(rel(inv[63]!, 1.1547819846894582e-4 / 4)).toBeLessThan(1e-6);
    expect([m.unchangedDims, m.dividedDims]).toEqual([1, 1]);
  });

  it("dynamic NTK: base' = 30527.7367… at L = 8192 (factor 2, 4096 trained), plain RoPE up to 4096", () => {
    const p = { variant: 'dynamic', factor: 2, maxPositionEmbeddings: 4096 };
    expect(rel(freqs(p, 8192).m.base, 30527.7367488067)).toBeLessThan(1e-12);
    const atTrained = freqs(p, 4096);
    expect(atTrained.m.base).toBe(10000);
    expect(atTrained.m.unchangedDims).toBe(64);
  });

  it('dynamic NTK reads L from the positions input when connected', () => {
    const positions = { kind: 'tensor', dtype: 'int32', shape: [2], data: new Int32Array([8191, 5]) } as Tensor;
    const out = runReference(position, { ...qk(2), positions }, { variant: 'dynamic', factor: 2, maxPositionEmbeddings: 4096, positionOffset: 9 });
    expect(rel((out.metrics as MetricsValue).values.base as number, 30527.7367488067)).toBeLessThan(1e-12);
  });

  it('YaRN: attention factor, low/high = 20/46, inv[20] kept, inv[40] on the ramp', () => {
    const { inv, m } = freqs({ variant: 'yarn', factor: 4, originalMaxPositionEmbeddings: 4096 });
    expect(m.attentionFactor).toBeCloseTo(1.138629436111989, 14);
    expect([m.low, m.high]).toEqual([20, 46]);
    expect(rel(inv[20]!, 0.056234132519034905)).toBeLessThan(1e-7);
    expect(rel(inv[40]!, 0.0013378867023789293)).toBeLessThan(1e-7);
    // Dims 0..20 have ramp 0 (kept), 46..63 ramp 1 (divided).
    expect([m.unchangedDims, m.dividedDims]).toEqual([21, 18]);
  });

  it('YaRN default temperature 0.1·ln(s) + 1 at s = 8, 64, 128', () => {
    expect(yarnMscale(8)).toBeCloseTo(1.2079, 4);
    expect(yarnMscale(64)).toBeCloseTo(1.41589, 5);
    expect(yarnMscale(128)).toBeCloseTo(1.4852, 4);
    expect(yarnMscale(1)).toBe(1);
    expect(freqs({ variant: 'yarn', factor: 4, attentionFactor: 1.5 }).m.attentionFactor).toBe(1.5);
  });

  it('Llama 3 (base 5e5, factor 8, orig 8192): ≤ 28 kept, ≥ 35 divided, inv[30] blended', () => {
    const p = { variant: 'llama3', base: 5e5, factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8192 };
    const { inv, m } = freqs(p);
    const plain = freqs({ variant: 'rope', base: 5e5 }).inv;
    for (let i = 0; i <= 28; i++) expect(inv[i], `dim ${i}`).toBe(plain[i]);
    for (let i = 35; i < 64; i++) expect(rel(inv[i]!, plain[i]! / 8), `dim ${i}`).toBeLessThan(1e-7);
    expect(rel(inv[30]!, 0.0013718935677611381)).toBeLessThan(1e-7);
    expect([m.unchangedDims, m.dividedDims]).toEqual([29, 29]);
  });

  it('LongRoPE: attention factor for 4096 → 131072; long factors only once L > orig', () => {
    expect(longropeAttentionFactor(4096, 131072)).toBeCloseTo(1.1902380714238083, 14);
    expect(longropeAttentionFactor(4096, 4096)).toBe(1);
    const p = { variant: 'longrope', shortFactor: Array(64).fill(1), longFactor: Array(64).fill(2), originalMaxPositionEmbeddings: 4096 };
    const atOrig = freqs(p, 4096);
    expect(atOrig.m.factors).toBe('short');
    expect(atOrig.inv[1]).toBeCloseTo(0.8659643233600653, 7);
    const beyond = freqs(p, 4097);
    expect(beyond.m.factors).toBe('long');
    expect(beyond.inv[1]).toBeCloseTo(0.8659643233600653 / 2, 7);
    expect(beyond.m.attentionFactor).toBeCloseTo(1.1902380714238083, 14);
  });

  it('LongRoPE refuses factor lists of the wrong length, naming the param', () => {
    const p = { variant: 'longrope', shortFactor: [1, 1], longFactor: Array(64).fill(2) };
    expect(() => runReference(position, qk(), p)).toThrow(/shortFactor has 2 entries but head dim 128 needs D\/2 = 64/);
  });

  it('ALiBi slopes: 8 heads 1/2 … 1/256; 12 heads add 2^−0.5, 2^−1.5, 2^−2.5, 2^−3.5', () => {
    const eight = [1 / 2, 1 / 4, 1 / 8, 1 / 16, 1 / 32, 1 / 64, 1 / 128, 1 / 256];
    alibiSlopes(8).forEach((s, i) => expect(s).toBeCloseTo(eight[i]!, 15));
    const twelve = [...eight, 2 ** -0.5, 2 ** -1.5, 2 ** -2.5, 2 ** -3.5];
    alibiSlopes(12).forEach((s, i) => expect(s).toBeCloseTo(twelve[i]!, 15));
  });

  it('ALiBi passes q, k through and puts the slopes in the bias; frequencies are 0', () => {
    const q = f32([8, 2, 4], Array.from({ length: 64 }, (_, i) => i));
    const out = runReference(position, { q, k: f32([2, 2, 4]) }, { variant: 'alibi' });
    expect(out.q).toBe(q);
    expect(out.bias).toEqual({ kind: 'bias', terms: [{ type: 'alibi', slopes: alibiSlopes(8) }] });
    expect(Array.from((out.frequencies as Tensor).data)).toEqual([0, 0]);
  });

  it('the other variants emit an empty bias', () => {
    expect(runReference(position, qk(), { variant: 'rope' }).bias).toEqual({ kind: 'bias', terms: [] });
  });
});
