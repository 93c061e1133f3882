// The rotation itself: hand-computed small cases for both layouts, RoPE's relative-position
// property, PI as RoPE at scaled positions, xPos's decay, and tfjs parity on cpu and wasm.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ShapeError } from '../../engine/node.js';
import { f32, i32, type Tensor } from '../../engine/tensor.js';
import { fillGaussian } from '../common/random.js';
import { expectClose, expectParity, runNode, runReference } from '../testing.js';
import { position } from './index.js';
import { examplesOf } from '../parity-examples.js';

const COS1 = 0.5403023058681398;
const SIN1 = 0.8414709848078965;
const COS01 = 0.9950041652780258;
const SIN01 = 0.09983341664682815;

/** One head, one token: x = [1, 2, 3, 4] at position 1 with base 100, so inv = [1, 0.1]. */
const one = () => ({ q: f32([1, 1, 4], [1, 2, 3, 4]), k: f32([1, 1, 4], [1, 2, 3, 4]) });
const rotated = (out: Record<string, unknown>, port = 'q') => Array.from((out[port] as Tensor).data);

function gaussianQk(H: number, Hkv: number, T: number, D: number, seed: number) {
  return {
    q: f32([H, T, D], fillGaussian(new Float32Array(H * T * D), seed, 1), ['H', 'T', 'D']),
    k: f32([Hkv, T, D], fillGaussian(new Float32Array(Hkv * T * D), seed, 2), ['Hkv', 'T', 'D']),
  };
}
const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((s, x, i) => s + x * b[i]!, 0);

describe('rotation by hand (D = 4, position 1, base 100)', () => {
  it('half layout rotates the pairs (0, 2) by 1 rad and (1, 3) by 0.1 rad', () => {
    const out = runReference(position, one(), { variant: 'rope', base: 100, positionOffset: 1, layout: 'half' });
    expectClose(rotated(out), [1 * COS1 - 3 * SIN1, 2 * COS01 - 4 * SIN01, 3 * COS1 + 1 * SIN1, 4 * COS01 + 2 * SIN01], { atol: 1e-6 });
  });

  it('interleaved layout rotates the pairs (0, 1) by 1 rad and (2, 3) by 0.1 rad', () => {
    const out = runReference(position, one(), { variant: 'rope', base: 100, positionOffset: 1, layout: 'interleaved' });
    expectClose(rotated(out), [1 * COS1 - 2 * SIN1, 2 * COS1 + 1 * SIN1, 3 * COS01 - 4 * SIN01, 4 * COS01 + 3 * SIN01], { atol: 1e-6 });
  });

  it('position 0 leaves q and k unchanged; the attention factor scales them (YaRN)', () => {
    const out = runReference(position, one(), { variant: 'rope' });
    expectClose(rotated(out), [1, 2, 3, 4], { atol: 0 });
    const yarn = runReference(position, one(), { variant: 'yarn', factor: 4, originalMaxPositionEmbeddings: 16 });
    const a = 0.1 * Math.log(4) + 1;
    expectClose(rotated(yarn), [a, 2 * a, 3 * a, 4 * a], { atol: 1e-6 });
    expectClose(rotated(yarn, 'k'), [a, 2 * a, 3 * a, 4 * a], { atol: 1e-6 });
  });

  it('sinusoidal adds sin/cos interleaved: [sin 1, cos 1, sin 0.01, cos 0.01] at position 1, D = 4', () => {
    const out = runReference(position, { q: f32([1, 1, 4]), k: f32([1, 1, 4]) }, { variant: 'sinusoidal', positionOffset: 1 });
    expectClose(rotated(out), [SIN1, COS1, Math.sin(0.01), Math.cos(0.01)], { atol: 1e-7 });
  });

  it('xPos (D = 2, scaleBase 1, γ = 0.4): q scaled by ζ = 2/7, k by 7/2 at position 1', () => {
    const ins = { q: f32([1, 1, 2], [1, 0]), k: f32([1, 1, 2], [1, 0]) };
    const out = runReference(position, ins, { variant: 'xpos', scaleBase: 1, gamma: 0.4, positionOffset: 1 });
    expectClose(rotated(out), [(2 / 7) * COS1, (2 / 7) * SIN1], { atol: 1e-7 });
    expectClose(rotated(out, 'k'), [3.5 * COS1, 3.5 * SIN1], { atol: 1e-6 });
  });
});

describe('rotation properties', () => {
  const scoreAt = (params: Record<string, unknown>, q: number[], k: number[], m: number, n: number) => {
    const D = q.length;
    const ins = { q: f32([1, 2, D], [...q, ...q]), k: f32([1, 2, D], [...k, ...k]), positions: i32([2], [m, n]) };
    const out = runReference(position, ins, params);
    const qd = (out.q as Tensor).data.subarray(0, D);
    const kd = (out.k as Tensor).data.subarray(D, 2 * D);
    return dot(qd, kd);
  };
  const vec = fc.array(fc.float({ min: -1, max: 1, noNaN: true }), { minLength: 8, maxLength: 8 });

  it.each(['half', 'interleaved'])('RoPE (%s): q_m·k_n depends only on m − n', (layout) => {
    fc.assert(
      fc.property(vec, vec, fc.integer({ min: 0, max: 2000 }), fc.integer({ min: 0, max: 2000 }), fc.integer({ min: 0, max: 5000 }),
        (q, k, m, n, shift) => {
          const p = { variant: 'rope', layout };
          const a = scoreAt(p, q, k, m, n);
          const b = scoreAt(p, q, k, m + shift, n + shift);
          expect(Math.abs(a - b)).toBeLessThan(2e-5 * (1 + Math.abs(a)));
        }),
      { numRuns: 60 },
    );
  });

  it('xPos: q_m·k_n depends only on m − n too (the decays cancel to ζ^((m−n)/scaleBase))', () => {
    fc.assert(
      fc.property(vec, vec, fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 300 }),
        (q, k, m, n, shift) => {
          const p = { variant: 'xpos', scaleBase: 512 };
          const a = scoreAt(p, q, k, m, n);
          const b = scoreAt(p, q, k, m + shift, n + shift);
          expect(Math.abs(a - b)).toBeLessThan(1e-4 * (1 + Math.abs(a)));
        }),
      { numRuns: 40 },
    );
  });

  it('PI with factor s at position s·n rotates exactly like RoPE at position n', () => {
    const { q, k } = gaussianQk(2, 1, 5, 16, 3);
    const n = [0, 3, 10, 250, 1001];
    const pi = runReference(position, { q, k, positions: i32([5], n.map((x) => 4 * x)) }, { variant: 'linear', factor: 4 });
    const plain = runReference(position, { q, k, positions: i32([5], n) }, { variant: 'rope' });
    expectClose((pi.q as Tensor).data, (plain.q as Tensor).data, { atol: 2e-6 });
  });

  it('rotation preserves the norm of each pair', () => {
    const { q, k } = gaussianQk(1, 1, 3, 8, 5);
    const out = runReference(position, { q, k }, { variant: 'rope', positionOffset: 777 });
    const norm = (d: ArrayLike<number>) => Math.sqrt(dot(d, d));
    expect(norm((out.q as Tensor).data)).toBeCloseTo(norm(q.data), 4);
  });
});

describe('position on tfjs backends', () => {
  const ins = { ...gaussianQk(4, 2, 33, 16, 11), positions: i32([33], Array.from({ length: 33 }, (_, t) => 5000 + 7 * t)) };
  const variantsToCheck = examplesOf('position');
  for (const backend of ['cpu', 'wasm'] as const)
    for (const layout of ['half', 'interleaved'])
      it(`${backend}, ${layout}: every variant matches the reference`, async () => {
        for (const p of variantsToCheck) await expectParity(position, backend, ins, { ...p, layout }, { atol: 2e-5, rtol: 1e-5 });
      });

  it('outputs that nothing reads are not computed', async () => {
    const out = await runNode(position, ins, { variant: 'rope' }, { connected: ['k'] });
    expect(out.q).toBeUndefined();
    expect(out.k).toBeDefined();
  });

  it('accepts a leading batch of 1', async () => {
    const q = { ...ins.q, shape: [1, ...ins.q.shape] };
    const out = await runNode(position, { q, k: ins.k }, { variant: 'rope' });
    expect((out.q as Tensor).shape).toEqual([4, 33, 16]);
  });
});

describe('position shapes and errors', () => {
  const shape = (s: (number | null)[], dtype: 'float32' | 'int32' = 'float32') => ({ kind: 'tensor' as const, dtype, shape: s });
  it('infers [H, T, D], [Hkv, T, D], frequencies [D/2]', () => {
    const out = position.infer({ q: shape([8, 100, 64]), k: shape([2, 100, 64]), positions: undefined, model: undefined }, position.params.parse({ variant: 'yarn' }));
    expect(out.q?.shape).toEqual([8, 100, 64]);
    expect(out.k?.shape).toEqual([2, 100, 64]);
    expect(out.frequencies?.shape).toEqual([32]);
  });
  it('names the port whose shape is wrong', () => {
    const p = position.params.parse({ variant: 'rope' });
    expect(() => position.infer({ q: shape([8, 100, 64]), k: shape([2, 99, 64]), positions: undefined, model: undefined }, p)).toThrow(ShapeError);
    expect(() => position.infer({ q: shape([8, 100, 64]), k: shape([2, 100, 64]), positions: shape([100], 'float32'), model: undefined }, p)).toThrow(/positions.*int32/);
    expect(() => position.infer({ q: shape([8, 100, 63]), k: shape([2, 100, 63]), positions: undefined, model: undefined }, p)).toThrow(/must be even, got 63/);
  });
  it('validates params with ranges', () => {
    expect(() => position.params.parse({ variant: 'linear', factor: 0.5 })).toThrow();
    expect(() => position.params.parse({ variant: 'rope', layout: 'sideways' })).toThrow();
    expect(() => position.params.parse({ variant: 'rope', base: -1 })).toThrow();
  });
  it('cost counts 3 flops per element for rotations and nothing for ALiBi', () => {
    const ins = { q: shape([8, 1024, 64]), k: shape([2, 1024, 64]), positions: undefined, model: undefined };
    const c = position.cost!(ins, position.params.parse({ variant: 'rope' }), {});
    expect(c.flops).toBe(3 * 10 * 1024 * 64 + 1024 * 64);
    expect(position.cost!(ins, position.params.parse({ variant: 'alibi' }), {}).flops).toBe(0);
  });
});
