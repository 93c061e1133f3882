// prune: hand-computed masks on a 4×8 matrix (magnitude, 2:4, Wanda with given norms), sparse-format
// bytes, and the model path (every decoder linear pruned; Wanda's calibration forward checked
// against the plain-TS Llama reference).
import { describe, expect, it } from 'vitest';
import { f32, i32, type Tensor } from '../../engine/tensor.js';
import type { MetricsValue, ModelValue } from '../../engine/values.js';
import { expectClose, runNode, testContext } from '../testing.js';
import { evalPerplexity } from '../model/eval-perplexity.js';
import { parseModelConfig } from '../model/config.js';
import { llamaReference } from '../model/reference.js';
import { tinyWeights } from '../model/testdata/tiny.js';
import { TINY_CONFIG, useTinyModel } from '../model/testdata/tiny-fixture.js';
import { ropeInv } from '../position/common.js';
import { calibrate, LINEARS } from './calibrate.js';
import { prune } from './index.js';
import { pruneMatrix, sparseBytes } from './masks.js';

// prettier-ignore
const W = [
  1, -2, 3, -4, 5, -6, 7, -8,
  0.5, 0.1, -0.3, 0.8, -0.2, 0.9, 0.06, -0.7,
  8, 7, 6, 5, 4, 3, 2, 1,
  -0.1, 0.2, -0.3, 0.4, -0.5, 0.6, -0.7, 0.8,
];
const NORMS = [3, 4, 2, 1, 1, 2, 4, 0.25];
const weight = () => f32([4, 8], W);
const run = async (params: Record<string, unknown>, norms = false) => {
  const out = await runNode(prune, { weight: weight(), ...(norms ? { norms: f32([8], NORMS) } : {}) }, params);
  return { w: Array.from((out.weight as Tensor).data), m: (out.metrics as MetricsValue).values as Record<string, any> };
};
const f = (xs: number[]) => Array.from(Float32Array.from(xs));

describe('prune on a weight (hand-computed)', () => {
  it('magnitude 50%: the 16 smallest |W| of the whole matrix — rows 1 and 3, every entry under 1', async () => {
    const { w, m } = await run({ method: 'magnitude', sparsity: 0.5 });
    expect(w).toEqual(f([1, -2, 3, -4, 5, -6, 7, -8, 0, 0, 0, 0, 0, 0, 0, 0, 8, 7, 6, 5, 4, 3, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0]).map((v) => v || 0));
    expect(m.sparsity).toBe(0.5);
    // CSR: 16 nonzeros × (4 + 4) + 5 row pointers × 4; not 2:4 (row 0 keeps 4 of each 4).
    expect(m.bytes).toEqual({ denseF32: 128, denseBf16: 64, csrF32: 148, csrBf16: 116, semi24Bf16: null });
  });

  it('2:4 magnitude: the 2 largest |W| of every 4 consecutive inputs', async () => {
    const { w, m } = await run({ method: 'magnitude', pattern: 'n:m' });
    expect(w).toEqual(f([0, 0, 3, -4, 0, 0, 7, -8, 0.5, 0, 0, 0.8, 0, 0.9, 0, -0.7, 8, 7, 0, 0, 4, 3, 0, 0, 0, 0, -0.3, 0.4, 0, 0, -0.7, 0.8]));
    expect(m.pattern).toBe('2:4');
    expect(m.sparsity).toBe(0.5);
    // NVIDIA 2:4: 16 bf16 values (32 B) + a 2-bit index each (4 B).
    expect(m.bytes.semi24Bf16).toBe(36);
  });

  it('Wanda 50%: |W|·‖X‖ compared within each output row', async () => {
    // Row scores: [3,8,6,4,5,12,28,2], [1.5,.4,.6,.8,.2,1.8,.24,.175], [24,28,12,5,4,6,8,.25], [.3,.8,.6,.4,.5,1.2,2.8,.2]
    const { w, m } = await run({ method: 'wanda', sparsity: 0.5 }, true);
    expect(w).toEqual(f([0, -2, 3, 0, 0, -6, 7, 0, 0.5, 0, -0.3, 0.8, 0, 0.9, 0, 0, 8, 7, 6, 0, 0, 0, 2, 0, 0, 0.2, -0.3, 0, 0, 0.6, -0.7, 0]));
    expect(m.sparsity).toBe(0.5);
  });

  it('Wanda 2:4 keeps the two highest |W|·‖X‖ per group', async () => {
    const { w } = await run({ method: 'wanda', pattern: 'n:m' }, true);
    expect(w.slice(0, 8)).toEqual(f([0, -2, 3, 0, 0, -6, 7, 0]));
  });

  it('sparse bytes of a dense matrix and of an all-zero one', () => {
    expect(sparseBytes(Float32Array.from(W), 4, 8)).toEqual({ nonzeros: 32, denseF32: 128, denseBf16: 64, csrF32: 276, csrBf16: 212, semi24Bf16: null });
    expect(sparseBytes(new Float32Array(32), 4, 8).semi24Bf16).toBe(36);
  });

  it('refuses Wanda without norms and N:M on an input dim that is not a multiple of m, naming the port', async () => {
    await expect(runNode(prune, { weight: weight() }, { method: 'wanda' })).rejects.toThrow(/norms/);
    await expect(runNode(prune, { weight: f32([2, 6], new Array(12).fill(1)) }, { pattern: 'n:m' })).rejects.toThrow(/input dim \(6\).*m = 4/);
    expect(() => prune.infer({ weight: { kind: 'tensor', dtype: 'float32', shape: [4, 8] } } as never, prune.params.parse({ method: 'wanda' }))).toThrow(/norms/);
  });
});

const cfg = TINY_CONFIG;
const tiny = useTinyModel(cfg);

const ids = Array.from({ length: 48 }, (_, i) => (i * 37 + 11) % 256);
const tokens = () => ({ kind: 'tokens' as const, ids: Int32Array.from(ids), offsets: new Int32Array(96), text: '', encoding: 'bytes' });

describe('prune on a model', () => {
  it('magnitude 50% prunes every decoder linear to exactly half and leaves the rest as it was', async () => {
    const out = await runNode(prune, { model: tiny.model }, { method: 'magnitude', sparsity: 0.5 });
    const m = (out.metrics as MetricsValue).values as { sparsity: number; matrices: Record<string, number>; params: number };
    const pm = out.model as ModelValue;
    expect(m.sparsity).toBe(0.5);
    expect(Object.keys(m.matrices)).toHaveLength(2 * LINEARS.length);
    for (const s of Object.values(m.matrices)) expect(s).toBe(0.5);
    const w = tinyWeights(cfg);
    const q = await pm.weights!.read('model.layers.1.self_attn.q_proj.weight');
    expect(Array.from(q.data)).toEqual(Array.from(pruneMatrix(w['model.layers.1.self_attn.q_proj.weight']!.data, 32, 32, { method: 'magnitude', structure: { kind: 'unstructured', sparsity: 0.5 } })));
    expect((await pm.weights!.read('model.embed_tokens.weight')).data).toEqual(w['model.embed_tokens.weight']!.data);
    expect(pm.weights!.fingerprint!()).not.toBe((await runNode(prune, { model: tiny.model }, { method: 'magnitude', sparsity: 0.25 }) as { model: ModelValue }).model.weights!.fingerprint!());
    // The pruned model runs through eval.perplexity.
    const ev = await runNode(evalPerplexity, { model: pm, ids: i32([48], ids) }, { lengths: [16], maxWindows: 1 });
    expect(((ev.metrics as MetricsValue).values.perplexity as number[])[0]).toBeGreaterThan(1);
  });

  it("Wanda's calibration forward is the Llama forward pass (reference logits) when nothing is pruned", async () => {
    const ctx = await testContext('cpu');
    const win = Int32Array.from(ids.slice(0, 16));
    const [hidden] = await calibrate(ctx, tiny.model, [win], () => ({}));
    const w = tinyWeights(cfg);
    const want = llamaReference(parseModelConfig(cfg), w, Array.from(win), { inv: ropeInv(10000, 8), eps: 1e-5 });
    // Final norm and the tied head, in plain TS.
    const got = new Float32Array(16 * 256);
    const E = w['model.embed_tokens.weight']!.data;
    const g = w['model.norm.weight']!.data;
    for (let t = 0; t < 16; t++) {
      const h = hidden!.subarray(t * 32, (t + 1) * 32);
      const r = 1 / Math.sqrt(h.reduce((s, v) => s + v * v, 0) / 32 + 1e-5);
      for (let v = 0; v < 256; v++) {
        let s = 0;
        for (let j = 0; j < 32; j++) s += h[j]! * r * g[j]! * E[v * 32 + j]!;
        got[t * 256 + v] = s;
      }
    }
    expectClose(got, want, { atol: 1e-4, rtol: 1e-4 }, 'logits');
  });

  it('Wanda prunes layer 0 by the norms of its inputs: RMSNorm of the calibration embeddings for q/k/v', async () => {
    const out = await runNode(prune, { model: tiny.model, tokens: tokens() }, { method: 'wanda', sparsity: 0.5, calibrationLength: 16, calibrationWindows: 3 });
    const m = (out.metrics as MetricsValue).values as { sparsity: number; matrices: Record<string, number> };
    expect(m.sparsity).toBe(0.5);
    const w = tinyWeights(cfg);
    const E = w['model.embed_tokens.weight']!.data;
    const g = w['model.layers.0.input_layernorm.weight']!.data;
    const sq = new Float64Array(32);
    for (const id of ids) {
      const e = E.subarray(id * 32, (id + 1) * 32);
      const r = 1 / Math.sqrt(e.reduce((s, v) => s + v * v, 0) / 32 + 1e-5);
      for (let j = 0; j < 32; j++) sq[j] += (e[j]! * r * g[j]!) ** 2;
    }
    const norms = Array.from(sq, Math.sqrt);
    for (const lin of ['q_proj', 'k_proj', 'v_proj']) {
      const name = `model.layers.0.self_attn.${lin}.weight`;
      const [rows] = w[name]!.shape as [number];
      const want = pruneMatrix(w[name]!.data, rows, 32, { method: 'wanda', structure: { kind: 'unstructured', sparsity: 0.5 }, norms });
      const got = (await (out.model as ModelValue).weights!.read(name)).data;
      // Same mask (a near-tie could flip under float32 sums: allow none here, the norms differ by far more).
      expect(Array.from(got, (v) => v === 0)).toEqual(Array.from(want, (v) => v === 0));
    }
  });

  it('refuses Wanda on a model without calibration tokens', async () => {
    await expect(runNode(prune, { model: tiny.model }, { method: 'wanda' })).rejects.toThrow(/calibration tokens/);
  });
});
