import { describe, expect, it } from 'vitest';
import { f32, type Tensor } from '../../engine/tensor.js';
import { tensorShape } from '../../engine/values.js';
import { fillGaussian } from '../common/random.js';
import { expectClose, expectParity, runNode, runReference } from '../testing.js';
import { attention } from './index.js';

const gauss = (shape: number[], seed: number) => f32(shape, fillGaussian(new Float32Array(shape.reduce((a, b) => a * b, 1)), seed));
const softmaxDot = (scores: number[], values: number[]) => {
  const m = Math.max(...scores);
  const w = scores.map((s) => Math.exp(s - m));
  const z = w.reduce((a, b) => a + b, 0);
  return w.reduce((a, x, j) => a + (x / z) * values[j]!, 0);
};

describe('attention variant star (Star-Transformer)', () => {
  // Two tokens, D = Dv = 1, scale 1: q = [1, −1], k = [0.5, 2], v = [3, −2]; relay query mean q = 0, key mean k = 1.25.
  const ins = { q: f32([1, 2, 1], [1, -1]), k: f32([1, 2, 1], [0.5, 2]), v: f32([1, 2, 1], [3, -2]) };
  const cycle = (h: number[], s: number) => [
    // satellite 0: [h_0, h_1 (next), e_0, s]; satellite 1: [h_0 (prev), h_1, e_1, s]
    softmaxDot([0.5, 2, 0.5, 1.25], [h[0]!, h[1]!, 3, s]),
    softmaxDot([-0.5, -2, -2, -1.25], [h[0]!, h[1]!, -2, s]),
  ];

  it('one cycle: each satellite attends to its ring, its token and the average relay (by hand)', () => {
    const out = runReference(attention, ins, { variant: 'star', cycles: 1, scale: 1 }).out as Tensor;
    expectClose(out.data, cycle([3, -2], 0.5), { atol: 1e-6 });
  });

  it('two cycles: the relay updates after the satellites, from itself and every satellite (by hand)', () => {
    const h1 = cycle([3, -2], 0.5);
    // the relay's query is mean q = 0: equal weights over [s^0, h_0^1, h_1^1]
    const s1 = (0.5 + h1[0]! + h1[1]!) / 3;
    const out = runReference(attention, ins, { variant: 'star', cycles: 2, scale: 1 }).out as Tensor;
    expectClose(out.data, cycle(h1, s1), { atol: 1e-6 });
  });

  for (const backend of ['cpu', 'wasm'] as const)
    it(`matches its reference on ${backend} (grouped-query heads, 1 and 3 cycles, T = 1)`, async () => {
      const big = { q: gauss([4, 37, 8], 1), k: gauss([2, 37, 8], 2), v: gauss([2, 37, 6], 3) };
      for (const cycles of [1, 3]) await expectParity(attention, backend, big, { variant: 'star', cycles }, { atol: 2e-6, rtol: 1e-5 });
      await expectParity(attention, backend, { q: gauss([1, 1, 4], 4), k: gauss([1, 1, 4], 5), v: gauss([1, 1, 4], 6) }, { variant: 'star' }, { atol: 1e-6 });
    });

  it('mixes the whole sequence in one cycle through the relay, but a token\'s ring is only its neighbours', async () => {
    const x = { q: gauss([1, 16, 4], 1), k: gauss([1, 16, 4], 2), v: gauss([1, 16, 4], 3) };
    const base = runReference(attention, x, { variant: 'star', cycles: 1 }).out as Tensor;
    const v2 = f32([1, 16, 4], Float32Array.from(x.v.data));
    v2.data[15 * 4] = (v2.data[15 * 4] as number) + 10; // token 15's value
    const moved = runReference(attention, { ...x, v: v2 }, { variant: 'star', cycles: 1 }).out as Tensor;
    // token 0 sees token 15 only through the relay (1/16 of the change, times the relay's weight)
    const d0 = Math.abs(moved.data[0]! - base.data[0]!);
    const d14 = Math.abs(moved.data[14 * 4]! - base.data[14 * 4]!);
    expect(d0).toBeGreaterThan(0);
    expect(d14).toBeGreaterThan(d0); // token 14 is its ring neighbour
  });

  it('is linear in T, bidirectional only, and refuses a bias', async () => {
    const c = (T: number) => attention.cost!({ q: tensorShape('float32', [2, T, 16]), k: tensorShape('float32', [2, T, 16]), v: tensorShape('float32', [2, T, 16]), bias: undefined, cache: undefined }, attention.params.parse({ variant: 'star' }), {});
    expect(c(4096).flops).toBe(4 * c(1024).flops);
    expect(c(4096).workspaceBytes).toBe(4 * c(1024).workspaceBytes);
    expect(() => attention.params.parse({ variant: 'star', causal: true })).toThrow();
    const x = { q: gauss([1, 4, 4], 1), k: gauss([1, 4, 4], 2), v: gauss([1, 4, 4], 3) };
    await expect(runNode(attention, { ...x, bias: { kind: 'bias', terms: [{ type: 'alibi', slopes: [0.5] }] } }, { variant: 'star' })).rejects.toThrow(/star.*bias/);
  });
});
