// naive and flash against hand-computed values and against the plain-TS oracle on every backend.
import { describe, expect, it } from 'vitest';
import { f32 } from '../../engine/tensor.js';
import type { BiasValue } from '../../engine/values.js';
import { expectClose, expectParity, runNode } from '../testing.js';
import { syntheticQkv } from '../sources/synthetic-qkv.js';
import { attention } from './index.js';
import { naiveAttentionReference } from './reference.js';

const qkv = (heads: number, kvHeads: number, seqLen: number, headDim: number, seed = 3) =>
  syntheticQkv({ heads, kvHeads, seqLen, headDim, seed, sinkStrength: 4, sinkTokens: 4, locality: 2 });

describe('exact attention: hand-computed values', () => {
  // H = 1, T = 2, D = 1: q = [1, 0], k = [1, 2], v = [10, 20], scale 1.
  const q = f32([1, 2, 1], [1, 0]);
  const k = f32([1, 2, 1], [1, 2]);
  const v = f32([1, 2, 1], [10, 20]);
  it('causal: row 0 sees only key 0; row 1 weighs equal scores equally', async () => {
    for (const variant of ['naive', 'flash']) {
      const { out } = await runNode(attention, { q, k, v }, { variant, scale: 1, causal: true });
      expectClose((out as { data: Float32Array }).data, [10, 15], { atol: 1e-6 }, variant);
    }
  });
  it('non-causal: row 0 = (10 + 20e)/(1 + e)', async () => {
    for (const variant of ['naive', 'flash']) {
      const { out } = await runNode(attention, { q, k, v }, { variant, scale: 1, causal: false });
      expectClose((out as { data: Float32Array }).data, [17.310585786300049, 15], { atol: 1e-5 }, variant);
    }
  });
  it('ALiBi slope 1 on the same inputs: row 1 scores −1 and 0 → (10 + 20e)/(1 + e)', async () => {
    const bias: BiasValue = { kind: 'bias', terms: [{ type: 'alibi', slopes: [1] }] };
    for (const variant of ['naive', 'flash']) {
      const { out } = await runNode(attention, { q, k, v, bias }, { variant, scale: 1, causal: true });
      expectClose((out as { data: Float32Array }).data, [10, 17.310585786300049], { atol: 1e-5 }, variant);
    }
  });
});

describe('exact attention: parity with the plain-TS oracle', () => {
  const cases = [
    { name: 'causal MHA, T not a multiple of the block', H: 2, Hkv: 2, T: 70, D: 16, params: { blockSize: 16 } },
    { name: 'grouped-query (4 heads, 1 kv head), non-causal', H: 4, Hkv: 1, T: 48, D: 8, params: { causal: false, blockSize: 16 } },
    { name: 'custom scale', H: 2, Hkv: 1, T: 33, D: 8, params: { scale: 0.3, blockSize: 32 } },
  ];
  for (const backend of ['cpu', 'wasm', 'webgpu'] as const) {
    for (const c of cases) {
      it(`${backend}: ${c.name}`, async () => {
        const ins = qkv(c.H, c.Hkv, c.T, c.D);
        for (const variant of ['naive', 'flash']) await expectParity(attention, backend, ins, { variant, ...c.params }, { atol: 2e-5 });
      });
    }
    it(`${backend}: fewer queries than keys (decoding rows) with a streaming mask`, async () => {
      const { q, k, v } = qkv(2, 2, 64, 8);
      const qLast = f32([2, 5, 8], new Float32Array([...q.data.subarray(59 * 8, 64 * 8), ...q.data.subarray(123 * 8, 128 * 8)]));
      const bias: BiasValue = { kind: 'bias', terms: [{ type: 'streaming', sinkTokens: 4, recentTokens: 16 }] };
      for (const variant of ['naive', 'flash']) await expectParity(attention, backend, { q: qLast, k, v, bias }, { variant, blockSize: 16 }, { atol: 2e-5 });
    });
  }

  it('accepts a leading batch dimension of 1', async () => {
    const { q, k, v } = qkv(2, 2, 16, 8);
    const b = (t: typeof q) => ({ ...t, shape: [1, ...t.shape] });
    const { out } = await runNode(attention, { q: b(q), k: b(k), v: b(v) }, { variant: 'flash', blockSize: 16 });
    expectClose((out as { data: Float32Array }).data, naiveAttentionReference(q, k, v, { causal: true }).data, { atol: 1e-5 });
  });

  it('the synthetic workload has sinks and locality (attention is far from uniform)', () => {
    const { q, k, v } = qkv(1, 1, 256, 32);
    // Mean attention weight on the 4 sink tokens from the last query, against uniform 4/256.
    const probs = naiveAttentionReference(q, k, f32([1, 256, 256], eye(256)), { causal: true }).data;
    // Averaged over the last 64 queries: the mass on the 4 sinks and on the 8 nearest keys.
    let sinkMass = 0;
    let localMass = 0;
    for (let i = 192; i < 256; i++) {
      const row = (probs as Float32Array).subarray(i * 256, (i + 1) * 256);
      sinkMass += (row[0]! + row[1]! + row[2]! + row[3]!) / 64;
      localMass += row.subarray(i - 7, i + 1).reduce((a: number, b: number) => a + b, 0) / 64;
    }
    // Uniform attention over ~224 visible keys would give 4/224 and 8/224.
    expect(sinkMass).toBeGreaterThan(5 * (4 / 224));
    expect(localMass).toBeGreaterThan(2 * (8 / 224));
    void v;
  });
});

function eye(n: number): Float32Array {
  const m = new Float32Array(n * n);
  for (let i = 0; i < n; i++) m[i * n + i] = 1;
  return m;
}
