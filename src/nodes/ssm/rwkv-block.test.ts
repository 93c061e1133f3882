import { describe, expect, it } from 'vitest';
import { f32 } from '../../engine/tensor.js';
import { tensorShape, type MetricsValue } from '../../engine/values.js';
import { fillGaussian, rng } from '../common/random.js';
import { expectClose, expectParity, runNode } from '../testing.js';
import { rwkvBlock, rwkvBlockReference, rwkvBlockWeights, rwkvDims, type RwkvBlockWeights } from './rwkv-block.js';
import type { Tensor } from '../../engine/tensor.js';

const gauss = (shape: number[], seed: number) => f32(shape, fillGaussian(new Float32Array(shape.reduce((a, b) => a * b, 1)), seed));
const parse = (p: object) => rwkvBlock.params.parse(p);

/** The seeded weights with non-trivial LayerNorm affine terms, so a test sees them used. */
function perturbed(w: RwkvBlockWeights): RwkvBlockWeights {
  const r = rng(99);
  const out = { ...w };
  for (const k of ['ln1.weight', 'ln1.bias', 'ln2.weight', 'ln2.bias'] as const)
    out[k] = Float32Array.from(w[k], (x) => x + (r() - 0.5));
  return out;
}

describe('ssm.rwkv-block', () => {
  it('initialises time_mix and time_decay as HF _init_weights, time_first as RWKV-LM', () => {
    const p = parse({ hiddenSize: 4, layerId: 1, numHiddenLayers: 3 });
    const w = rwkvBlockWeights(p);
    // ratio_0_to_1 = 1/2, ratio_1_to_almost0 = 2/3; time_weight = i/4.
    expectClose(w['attention.time_mix_key'], [0, 0.25 ** (2 / 3), 0.5 ** (2 / 3), 0.75 ** (2 / 3)], { atol: 1e-6 });
    expectClose(w['attention.time_mix_value'], [0.15, 0.25 ** (2 / 3) + 0.15, 0.5 ** (2 / 3) + 0.15, 0.75 ** (2 / 3) + 0.15], { atol: 1e-6 });
    expectClose(w['attention.time_mix_receptance'], [0, 0.25 ** (1 / 3), 0.5 ** (1 / 3), 0.75 ** (1 / 3)], { atol: 1e-6 });
    // decay_speed = −5 + 8·(h/3)^(0.7 + 0.65)
    expectClose(w['attention.time_decay'], [-5, -5 + 8 * (1 / 3) ** 1.35, -5 + 8 * (2 / 3) ** 1.35, 3], { atol: 1e-5 });
    expectClose(w['attention.time_first'], [Math.log(0.3), Math.log(0.3) + 0.5, Math.log(0.3) - 0.5, Math.log(0.3)], { atol: 1e-6 });
    expect(w['feed_forward.key.weight'].length).toBe(16 * 4); // intermediate 4·C, [out, in]
    expect(Math.max(...w['feed_forward.value.weight'].map(Math.abs))).toBeLessThanOrEqual(1 / 4); // U(±1/√16)
  });

  it('computes the block for two tokens, written out from the paper\'s formulas', () => {
    const p = parse({ hiddenSize: 3, intermediateSize: 5, layerId: 0, numHiddenLayers: 2, seed: 4 });
    const { C, F } = rwkvDims(p);
    const w = perturbed(rwkvBlockWeights(p));
    const x = gauss([2, C], 7);
    const row = (t: number, a: ArrayLike<number>, n = C) => Array.from({ length: n }, (_, c) => a[t * n + c]!);
    const ln = (h: number[], g: Float32Array, b: Float32Array) => {
      const m = h.reduce((s, v) => s + v, 0) / h.length;
      const va = h.reduce((s, v) => s + (v - m) ** 2, 0) / h.length;
      return h.map((v, c) => ((v - m) / Math.sqrt(va + 1e-5)) * g[c]! + b[c]!);
    };
    const mv = (W: Float32Array, h: number[], nOut: number) => Array.from({ length: nOut }, (_, o) => h.reduce((s, v, i) => s + W[o * h.length + i]! * v, 0));
    const sig = (v: number) => 1 / (1 + Math.exp(-v));
    const mixed = (mu: Float32Array, cur: number[], prev: number[]) => cur.map((v, c) => mu[c]! * v + (1 - mu[c]!) * prev[c]!);
    const zero = [0, 0, 0];
    const a = [0, 1].map((t) => ln(row(t, x.data), w['ln1.weight'], w['ln1.bias']));
    const kvr = [0, 1].map((t) => {
      const prev = t === 0 ? zero : a[0]!;
      return {
        k: mv(w['attention.key.weight'], mixed(w['attention.time_mix_key'], a[t]!, prev), C),
        v: mv(w['attention.value.weight'], mixed(w['attention.time_mix_value'], a[t]!, prev), C),
        r: mv(w['attention.receptance.weight'], mixed(w['attention.time_mix_receptance'], a[t]!, prev), C).map(sig),
      };
    });
    const u = w['attention.time_first'];
    // wkv_0 = v_0; wkv_1 = (e^{k_0}·v_0 + e^{u+k_1}·v_1) / (e^{k_0} + e^{u+k_1}) (distance 0: no decay yet).
    const wkv = [
      kvr[0]!.v,
      kvr[1]!.v.map((v1, c) => {
        const e0 = Math.exp(kvr[0]!.k[c]!);
        const e1 = Math.exp(u[c]! + kvr[1]!.k[c]!);
        return (e0 * kvr[0]!.v[c]! + e1 * v1) / (e0 + e1);
      }),
    ];
    const h1 = [0, 1].map((t) => {
      const o = mv(w['attention.output.weight'], kvr[t]!.r.map((r, c) => r * wkv[t]![c]!), C);
      return row(t, x.data).map((v, c) => v + o[c]!);
    });
    const b = h1.map((h) => ln(h, w['ln2.weight'], w['ln2.bias']));
    const want = [0, 1].flatMap((t) => {
      const prev = t === 0 ? zero : b[0]!;
      const k = mv(w['feed_forward.key.weight'], mixed(w['feed_forward.time_mix_key'], b[t]!, prev), F).map((v) => Math.max(0, v) ** 2);
      const r = mv(w['feed_forward.receptance.weight'], mixed(w['feed_forward.time_mix_receptance'], b[t]!, prev), C).map(sig);
      const v = mv(w['feed_forward.value.weight'], k, C);
      return h1[t]!.map((h, c) => h + r[c]! * v[c]!);
    });
    expectClose(rwkvBlockReference(x.data as Float32Array, 2, p, w), want, { atol: 1e-5 }, 'reference');
  });

  it('is causal: appending tokens leaves the earlier outputs unchanged', () => {
    const p = parse({ hiddenSize: 8, seed: 1 });
    const w = rwkvBlockWeights(p);
    const x = gauss([12, 8], 3).data as Float32Array;
    const full = rwkvBlockReference(x, 12, p, w);
    const prefix = rwkvBlockReference(x.subarray(0, 5 * 8), 5, p, w);
    expectClose(full.subarray(0, 5 * 8), prefix, { atol: 1e-6 });
    // and the last token depends on the one before it (token shift + WKV), so the check above is not vacuous.
    const x2 = Float32Array.from(x);
    x2[10 * 8] += 1;
    expect(Math.abs(rwkvBlockReference(x2, 12, p, w)[11 * 8]! - full[11 * 8]!)).toBeGreaterThan(1e-4);
  });

  for (const backend of ['cpu', 'wasm'] as const) {
    it(`matches the reference on ${backend} ([T, C] and [batch, T, C], T = 1 too)`, async () => {
      await expectParity(rwkvBlock, backend, { x: gauss([33, 16], 1) }, { hiddenSize: 16, layerId: 1, numHiddenLayers: 4, seed: 2 }, { atol: 2e-4, rtol: 1e-4 });
      await expectParity(rwkvBlock, backend, { x: gauss([2, 9, 8], 5) }, { hiddenSize: 8, intermediateSize: 20 }, { atol: 2e-4, rtol: 1e-4 });
      await expectParity(rwkvBlock, backend, { x: gauss([1, 8], 6) }, { hiddenSize: 8 }, { atol: 2e-4, rtol: 1e-4 });
    });
  }

  it('reports a state that does not grow with T, and refuses a width that is not hiddenSize', async () => {
    const m = async (T: number) => ((await runNode(rwkvBlock, { x: gauss([T, 8], 1) }, { hiddenSize: 8 })).metrics as MetricsValue).values;
    const [a, b] = [await m(4), await m(16)];
    expect(a.stateBytes).toBe(5 * 8 * 4);
    expect(b.stateBytes).toBe(a.stateBytes);
    expect(b.flops).toBe(4 * (a.flops as number));
    expect(() => rwkvBlock.infer({ x: tensorShape('float32', [4, 6]) }, parse({ hiddenSize: 8 }))).toThrow(/width 6 but hiddenSize is 8/);
    const out = (await runNode(rwkvBlock, { x: gauss([4, 8], 1) }, { hiddenSize: 8 })).out as Tensor;
    expect(out.shape).toEqual([4, 8]);
  });
});
