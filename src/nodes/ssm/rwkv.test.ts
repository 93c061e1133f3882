import { describe, expect, it } from 'vitest';
import { f32, type Tensor } from '../../engine/tensor.js';
import { tensorShape } from '../../engine/values.js';
import { fillGaussian } from '../common/random.js';
import { expectClose, expectParity, runNode } from '../testing.js';
import { rwkv } from './rwkv.js';

const gauss = (shape: number[], seed: number, scale = 1) =>
  f32(shape, fillGaussian(new Float32Array(shape.reduce((a, b) => a * b, 1)), seed).map((x) => x * scale));

/** The formula as written, in float64, without any max shift: fine for small k, overflows for large k. */
function wkvNaive(k: Tensor, v: Tensor, timeDecay: Tensor, timeFirst: Tensor): number[] {
  const [T, C] = k.shape as [number, number];
  const out: number[] = [];
  for (let t = 0; t < T; t++)
    for (let c = 0; c < C; c++) {
      const w = Math.exp(timeDecay.data[c]!);
      let num = 0;
      let den = 0;
      for (let i = 0; i < t; i++) {
        const e = Math.exp(-(t - 1 - i) * w + k.data[i * C + c]!);
        num += e * v.data[i * C + c]!;
        den += e;
      }
      const e = Math.exp(timeFirst.data[c]! + k.data[t * C + c]!);
      out.push((num + e * v.data[t * C + c]!) / (den + e));
    }
  return out;
}

describe('ssm.rwkv', () => {
  it('computes WKV by hand: decay ½ per step, no bonus, equal keys', async () => {
    // w = ln 2 (timeDecay = ln ln 2), u = 0, k = 0, v = 1, 3, 5:
    // wkv_0 = 1; wkv_1 = (1 + 3)/2 = 2; wkv_2 = (½·1 + 3 + 5)/(½ + 1 + 1) = 3.4.
    const ins = { k: f32([3, 1], [0, 0, 0]), v: f32([3, 1], [1, 3, 5]), timeDecay: f32([1], [Math.log(Math.LN2)]), timeFirst: f32([1], [0]) };
    const r = await runNode(rwkv, ins);
    expectClose((r.wkv as Tensor).data, [1, 2, 3.4], { atol: 1e-6 });
    // With a bonus u = ln 3 the current token weighs 3: wkv_1 = (1 + 3·3)/(1 + 3) = 2.5.
    const r2 = await runNode(rwkv, { ...ins, timeFirst: f32([1], [Math.log(3)]) });
    expectClose((r2.wkv as Tensor).data.subarray(0, 2), [1, 2.5], { atol: 1e-6 });
  });

  it('the stable recurrence matches the direct float64 formula on small random inputs', async () => {
    const ins = { k: gauss([40, 6], 1), v: gauss([40, 6], 2), timeDecay: gauss([6], 3, 0.5), timeFirst: gauss([6], 4, 0.5) };
    const got = (await runNode(rwkv, ins)).wkv as Tensor;
    expectClose(got.data, wkvNaive(ins.k, ins.v, ins.timeDecay, ins.timeFirst), { atol: 1e-5, rtol: 1e-5 });
    await expectParity(rwkv, 'cpu', ins, {}, { atol: 1e-5, rtol: 1e-5 });
  });

  it('stays finite where the direct formula overflows (k shifted by 1000 changes nothing)', async () => {
    // k on a 1/64 grid, so that k + 1000 is exact in float32.
    const base = { k: f32([20, 3], gauss([20, 3], 7).data.map((x) => Math.round(x * 64) / 64)), v: gauss([20, 3], 8), timeDecay: gauss([3], 9), timeFirst: gauss([3], 10) };
    const shifted = { ...base, k: f32([20, 3], base.k.data.map((x) => x + 1000)) };
    expect(wkvNaive(shifted.k, shifted.v, shifted.timeDecay, shifted.timeFirst).some(Number.isNaN)).toBe(true);
    const a = (await runNode(rwkv, base)).wkv as Tensor;
    const b = (await runNode(rwkv, shifted)).wkv as Tensor;
    expect(b.data.every(Number.isFinite)).toBe(true);
    expectClose(b.data, a.data, { atol: 1e-5 });
  });

  it('returns the last state so that a·e^p and b·e^p are the raw sums', async () => {
    const ins = { k: f32([2, 1], [0, Math.log(2)]), v: f32([2, 1], [1, 3]), timeDecay: f32([1], [Math.log(Math.LN2)]), timeFirst: f32([1], [0]) };
    const s = (await runNode(rwkv, ins)).state as Tensor;
    // After two tokens: num = ½·e^0·1 + e^{ln 2}·3 = 6.5, den = ½ + 2 = 2.5.
    const [a, b, p] = s.data as Float32Array;
    expectClose([a! * Math.exp(p!), b! * Math.exp(p!)], [6.5, 2.5], { atol: 1e-5 });
  });

  it('accepts a batch and names mismatched ports', async () => {
    const ins = { k: gauss([2, 5, 3], 1), v: gauss([2, 5, 3], 2), timeDecay: gauss([3], 3), timeFirst: gauss([3], 4) };
    const r = await runNode(rwkv, ins);
    expect((r.wkv as Tensor).shape).toEqual([2, 5, 3]);
    expect((r.state as Tensor).shape).toEqual([2, 3, 3]);
    const second = await runNode(rwkv, { ...ins, k: f32([5, 3], ins.k.data.slice(15)), v: f32([5, 3], ins.v.data.slice(15)) });
    expectClose((r.wkv as Tensor).data.subarray(15), (second.wkv as Tensor).data, { atol: 0 });
    const s = (shape: number[]) => tensorShape('float32', shape);
    expect(() => rwkv.infer({ k: s([5, 3]), v: s([5, 4]), timeDecay: s([3]), timeFirst: s([3]) }, {})).toThrow(/"v"/);
    expect(() => rwkv.infer({ k: s([5, 3]), v: s([5, 3]), timeDecay: s([4]), timeFirst: s([3]) }, {})).toThrow(/"timeDecay"/);
  });
});
