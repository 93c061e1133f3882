// q shorter than k (HF's decoding convention): the positions are k's Tk positions and q's rows sit
// at the last Tq of them. Hand-checked single-query cases, equality with the full-length run's last
// rows, tfjs parity, and the errors.
import { describe, expect, it } from 'vitest';
import { ShapeError } from '../../engine/node.js';
import { f32, i32, type Tensor } from '../../engine/tensor.js';
import type { MetricsValue, PortShape } from '../../engine/values.js';
import { fillGaussian } from '../common/random.js';
import { expectClose, expectParity, runNode, runReference } from '../testing.js';
import { position } from './index.js';
import { examplesOf } from '../parity-examples.js';

const COS1 = 0.5403023058681398;
const SIN1 = 0.8414709848078965;
const COS01 = 0.9950041652780258;
const SIN01 = 0.09983341664682815;

const data = (out: Record<string, unknown>, port: string) => Array.from((out[port] as Tensor).data);

/** The last n rows of every head of x [H, T, D]. */
function lastRows(x: Tensor, n: number): Tensor {
  const [H, T, D] = x.shape as [number, number, number];
  const out = new Float32Array(H * n * D);
  for (let h = 0; h < H; h++) out.set(x.data.subarray((h * T + T - n) * D, (h * T + T) * D), h * n * D);
  return f32([H, n, D], out, ['H', 'T', 'D']);
}

function gaussian(H: number, T: number, D: number, seed: number, stream: number): Tensor {
  return f32([H, T, D], fillGaussian(new Float32Array(H * T * D), seed, stream), ['H', 'T', 'D']);
}

describe('one query, two keys, by hand (D = 4, base 100, so inv = [1, 0.1])', () => {
  const q = () => f32([1, 1, 4], [1, 2, 3, 4]);
  const k = () => f32([1, 2, 4], [1, 2, 3, 4, 1, 2, 3, 4]);
  const atOne = [1 * COS1 - 3 * SIN1, 2 * COS01 - 4 * SIN01, 3 * COS1 + 1 * SIN1, 4 * COS01 + 2 * SIN01];

  it('positions 0, 1 by default: q is rotated at position 1, k row 0 is not rotated', async () => {
    for (const out of [runReference(position, { q: q(), k: k() }, { variant: 'rope', base: 100 }),
      await runNode(position, { q: q(), k: k() }, { variant: 'rope', base: 100 })]) {
      expect((out.q as Tensor).shape).toEqual([1, 1, 4]);
      expectClose(data(out, 'q'), atOne, { atol: 1e-6 });
      expectClose(data(out, 'k'), [1, 2, 3, 4, ...atOne], { atol: 1e-6 });
    }
  });

  it('with a `positions` input [9, 1], q takes the last entry (1), not the first', () => {
    const out = runReference(position, { q: q(), k: k(), positions: i32([2], [9, 1]) }, { variant: 'rope', base: 100 });
    expectClose(data(out, 'q'), atOne, { atol: 1e-6 });
  });

  it('sinusoidal adds the table row of position 1 to q: [sin 1, cos 1, sin 0.01, cos 0.01]', async () => {
    const ins = { q: f32([1, 1, 4]), k: f32([1, 2, 4]) };
    for (const out of [runReference(position, ins, { variant: 'sinusoidal' }), await runNode(position, ins, { variant: 'sinusoidal' })]) {
      expectClose(data(out, 'q'), [SIN1, COS1, Math.sin(0.01), Math.cos(0.01)], { atol: 1e-7 });
      expectClose(data(out, 'k'), [0, 1, 0, 1, SIN1, COS1, Math.sin(0.01), Math.cos(0.01)], { atol: 1e-7 });
    }
  });

  it('xPos (D = 2, scaleBase 1, γ = 0.4): q at position 1 scaled by ζ = 2/7; k row 1 by 7/2, row 0 untouched', async () => {
    const ins = { q: f32([1, 1, 2], [1, 0]), k: f32([1, 2, 2], [1, 0, 1, 0]) };
    const p = { variant: 'xpos', scaleBase: 1, gamma: 0.4 };
    for (const out of [runReference(position, ins, p), await runNode(position, ins, p)]) {
      expectClose(data(out, 'q'), [(2 / 7) * COS1, (2 / 7) * SIN1], { atol: 1e-7 });
      expectClose(data(out, 'k'), [1, 0, 3.5 * COS1, 3.5 * SIN1], { atol: 1e-6 });
    }
  });

  it("dynamic NTK's L is max position + 1 over k's positions, even when q's position is smaller", () => {
    // Golden value from frequencies.test.ts: base' = 30527.7367… at L = 8192 (factor 2, 4096 trained).
    const ins = { q: f32([1, 1, 128]), k: f32([1, 2, 128]), positions: i32([2], [8191, 5]) };
    const out = runReference(position, ins, { variant: 'dynamic', factor: 2, maxPositionEmbeddings: 4096 });
    const m = (out.metrics as MetricsValue).values;
    expect(Math.abs((m.base as number) - 30527.7367488067) / 30527.7367488067).toBeLessThan(1e-12);
    expect(m.maxPosition).toBe(8191);
  });
});

describe('q of length Tq equals the last Tq rows of the full-length run', () => {
  const [H, Hkv, Tk, D] = [4, 2, 24, 16];
  const q = gaussian(H, Tk, D, 21, 1);
  const k = gaussian(Hkv, Tk, D, 21, 2);
  // For dynamic, max position 3000 + 23 > 64: its base depends on k's last position, not q's.
  const variants = examplesOf('position');
  const sources = {
    offset: { params: { positionOffset: 3000 }, positions: undefined, model: undefined },
    positions: { params: {}, positions: i32([Tk], Array.from({ length: Tk }, (_, t) => 3000 + 5 * t - (t % 3))) },
  };
  for (const layout of ['half', 'interleaved'])
    for (const [name, src] of Object.entries(sources))
      it(`${layout}, positions from ${name}: every variant, Tq = 1 and 7, reference and cpu`, async () => {
        for (const v of variants) {
          const p = { ...v, ...src.params, layout };
          const full = runReference(position, { q, k, positions: src.positions }, p);
          for (const Tq of [1, 7]) {
            const ins = { q: lastRows(q, Tq), k, positions: src.positions };
            const want = lastRows(full.q as Tensor, Tq).data;
            for (const out of [runReference(position, ins, p), await runNode(position, ins, p)]) {
              const what = `${v.variant} Tq = ${Tq}`;
              expect((out.q as Tensor).shape).toEqual([H, Tq, D]);
              expectClose((out.q as Tensor).data, want, { atol: 2e-5, rtol: 1e-5 }, `${what} q`);
              expectClose((out.k as Tensor).data, (full.k as Tensor).data, { atol: 2e-5, rtol: 1e-5 }, `${what} k`);
              expect(out.metrics).toEqual(full.metrics);
              expect(Array.from((out.frequencies as Tensor).data)).toEqual(Array.from((full.frequencies as Tensor).data));
            }
          }
        }
      });
});

describe('q shorter than k on tfjs backends', () => {
  const ins = {
    q: gaussian(4, 3, 16, 13, 1),
    k: gaussian(2, 33, 16, 13, 2),
    positions: i32([33], Array.from({ length: 33 }, (_, t) => 5000 + 7 * t)),
  };
  const variants: Record<string, unknown>[] = [
    { variant: 'rope' },
    { variant: 'dynamic', factor: 2, maxPositionEmbeddings: 64 },
    { variant: 'yarn', factor: 8, originalMaxPositionEmbeddings: 256 },
    { variant: 'llama3', factor: 8, originalMaxPositionEmbeddings: 64 },
    { variant: 'xpos', scaleBase: 4096 },
    { variant: 'sinusoidal' },
    { variant: 'alibi' },
  ];
  for (const backend of ['cpu', 'wasm'] as const)
    for (const layout of ['half', 'interleaved'])
      it(`${backend}, ${layout}: Tq = 3, Tk = 33 matches the reference`, async () => {
        for (const p of variants) await expectParity(position, backend, ins, { ...p, layout }, { atol: 2e-5, rtol: 1e-5 });
        await expectParity(position, backend, { q: ins.q, k: ins.k }, { variant: 'rope', positionOffset: 100, layout }, { atol: 2e-5, rtol: 1e-5 });
      });
});

describe('q shorter than k: shapes, cost and errors', () => {
  const shape = (s: (number | null)[], dtype: 'float32' | 'int32' = 'float32'): PortShape => ({ kind: 'tensor', dtype, shape: s });
  const rope = position.params.parse({ variant: 'rope' });
  const portOf = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      expect(e).toBeInstanceOf(ShapeError);
      return { port: (e as ShapeError).port, message: (e as Error).message };
    }
    throw new Error('expected a ShapeError');
  };

  it('infers q [H, Tq, D] and k [Hkv, Tk, D]; positions are [Tk]', () => {
    const out = position.infer({ q: shape([8, 1, 64]), k: shape([2, 100, 64]), positions: shape([100], 'int32'), model: undefined }, rope);
    expect(out.q?.shape).toEqual([8, 1, 64]);
    expect(out.k?.shape).toEqual([2, 100, 64]);
    expect(out.frequencies?.shape).toEqual([32]);
  });

  it('Tq > Tk is an error naming q, in infer, run and reference', async () => {
    const bad = portOf(() => position.infer({ q: shape([8, 101, 64]), k: shape([2, 100, 64]), positions: undefined, model: undefined }, rope));
    expect(bad).toEqual({ port: 'q', message: expect.stringMatching(/Tq = 101.*Tk = 100/) });
    const ins = { q: f32([1, 3, 4]), k: f32([1, 2, 4]) };
    expect(portOf(() => runReference(position, ins, { variant: 'rope' })).port).toBe('q');
    await expect(runNode(position, ins, { variant: 'rope' })).rejects.toMatchObject({ name: 'ShapeError', port: 'q' });
  });

  it('positions of length Tq (not Tk) are an error naming positions', () => {
    const bad = portOf(() => position.infer({ q: shape([8, 1, 64]), k: shape([2, 100, 64]), positions: shape([1], 'int32'), model: undefined }, rope));
    expect(bad.port).toBe('positions');
    const ins = { q: f32([1, 1, 4]), k: f32([1, 2, 4]), positions: i32([1], [5]) };
    expect(portOf(() => runReference(position, ins, { variant: 'rope' }))).toEqual({ port: 'positions', message: expect.stringMatching(/1 entries but k has Tk = 2/) });
  });

  it('cost counts q and k elements separately: 3·(H·Tq + Hkv·Tk)·D + Tk·D table entries', () => {
    const ins = { q: shape([8, 1, 64]), k: shape([2, 1024, 64]), positions: undefined, model: undefined };
    expect(position.cost!(ins, rope, {}).flops).toBe(3 * (8 * 1 + 2 * 1024) * 64 + 1024 * 64);
    expect(position.cost!(ins, position.params.parse({ variant: 'xpos' }), {}).flops).toBe(3 * (8 + 2 * 1024) * 64 + (1024 + 1) * 64);
  });
});
