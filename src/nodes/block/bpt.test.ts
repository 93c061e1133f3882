import { describe, expect, it } from 'vitest';
import { f32, type Tensor } from '../../engine/tensor.js';
import { tensorShape, type MetricsValue } from '../../engine/values.js';
import { fillGaussian } from '../common/random.js';
import { expectClose, expectParity, runNode } from '../testing.js';
import { bpt, bptReference, bptWeights, bptWorkspace } from './bpt.js';

const gauss = (shape: number[], seed: number) => f32(shape, fillGaussian(new Float32Array(shape.reduce((a, b) => a * b, 1)), seed));
const parse = (p: object) => bpt.params.parse(p);

describe('block.bpt', () => {
  it('computes attention then the GELU FFN (one head, two tokens, by hand)', () => {
    const p = parse({ hiddenSize: 2, heads: 1, ffnMult: 2, seed: 3 });
    const w = bptWeights(p);
    const x = [0.5, -1, 1.5, 0.25];
    const mv = (W: Float32Array, v: number[], n: number) => Array.from({ length: n }, (_, o) => v.reduce((s, a, i) => s + W[o * v.length + i]! * a, 0));
    const tok = (t: number) => x.slice(2 * t, 2 * t + 2);
    const q = [0, 1].map((t) => mv(w.wq, tok(t), 2));
    const k = [0, 1].map((t) => mv(w.wk, tok(t), 2));
    const v = [0, 1].map((t) => mv(w.wv, tok(t), 2));
    const dot = (a: number[], b: number[]) => a[0]! * b[0]! + a[1]! * b[1]!;
    // causal: token 0 sees itself (its value); token 1 a two-way softmax.
    const s10 = dot(q[1]!, k[0]!) / Math.SQRT2;
    const s11 = dot(q[1]!, k[1]!) / Math.SQRT2;
    const p0 = 1 / (1 + Math.exp(s11 - s10));
    const att = [v[0]!, v[0]!.map((a, c) => p0 * a + (1 - p0) * v[1]![c]!)];
    const gelu = (z: number) => 0.5 * z * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (z + 0.044715 * z ** 3)));
    const want = [0, 1].flatMap((t) => {
      const a = mv(w.wo, att[t]!, 2).map((o, c) => o + tok(t)[c]!);
      const h = mv(w.w1, a, 4).map((z, f) => gelu(z + w.b1[f]!));
      return mv(w.w2, h, 2).map((o, c) => a[c]! + o + w.b2[c]!);
    });
    expectClose(bptReference(Float32Array.from(x), 2, p, w), want, { atol: 1e-6 });
  });

  for (const backend of ['cpu', 'wasm'] as const)
    it(`blockwise and unfused equal the reference on ${backend} (causal or not, ragged blocks)`, async () => {
      const x = gauss([45, 16], 1);
      for (const causal of [true, false])
        for (const mode of ['blockwise', 'unfused'])
          await expectParity(bpt, backend, { x }, { hiddenSize: 16, heads: 4, blockSize: 16, kvBlockSize: 8, causal, mode, seed: 5 }, { atol: 2e-5, rtol: 1e-5 });
      await expectParity(bpt, backend, { x: gauss([1, 20, 8], 2) }, { hiddenSize: 8, heads: 2, blockSize: 7, kvBlockSize: 64 }, { atol: 2e-5, rtol: 1e-5 });
    });

  it('blockwise equals the unfused layer to 1e-5 on the same backend', async () => {
    const x = gauss([70, 32], 4);
    const run = async (mode: string) => ((await runNode(bpt, { x }, { hiddenSize: 32, heads: 4, blockSize: 32, kvBlockSize: 16, mode }, { backend: 'wasm' })).out as Tensor).data;
    expectClose(await run('blockwise'), await run('unfused'), { atol: 1e-5 });
  });

  it('its cost model holds one block\'s FFN activation instead of T rows\' and says so', async () => {
    const pb = parse({ hiddenSize: 64, blockSize: 64 });
    const pu = parse({ hiddenSize: 64, blockSize: 64, mode: 'unfused' });
    expect(bptWorkspace(pb, 4096).ffn).toBe(4 * 64 * 256);
    expect(bptWorkspace(pu, 4096).ffn).toBe(4 * 4096 * 256);
    const cb = bpt.cost!({ x: tensorShape('float32', [4096, 64]) }, pb, {});
    const cu = bpt.cost!({ x: tensorShape('float32', [4096, 64]) }, pu, {});
    expect(cu.workspaceBytes - cb.workspaceBytes).toBe(4 * 4096 * 12 * 256 - 4 * 64 * (11 * 256 + 4 * 64));
    expect(cb.flops).toBe(cu.flops);
    expect(cb.note).toMatch(/one 64-row block/);
    const m = ((await runNode(bpt, { x: gauss([40, 8], 1) }, { hiddenSize: 8, heads: 2, blockSize: 16 })).metrics as MetricsValue).values;
    expect(m.ffnActivationBytes).toBe(4 * 16 * 32);
    expect(m.unfusedFfnActivationBytes).toBe(4 * 40 * 32);
    expect(() => bpt.infer({ x: tensorShape('float32', [4, 6]) }, parse({ hiddenSize: 8 }))).toThrow(/width 6 but hiddenSize is 8/);
    expect(() => bpt.params.parse({ hiddenSize: 10, heads: 4 })).toThrow(/multiple of heads/);
  });
});
