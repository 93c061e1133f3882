// Every new variant's kernel against its own dense plain-TS formula, on cpu, wasm and webgpu: causal and
// not, grouped-query K/V, fewer queries than keys, ALiBi and a segment mask; flash-decoding against
// exact attention. Small shapes (T = 40, D = 8) keep this fast.
import { describe, it } from 'vitest';
import { f32, type Tensor } from '../../engine/tensor.js';
import type { BiasValue } from '../../engine/values.js';
import { fillGaussian } from '../common/random.js';
import { expectParity } from '../testing.js';
import { attention } from './index.js';
import { naiveAttentionReference } from './reference.js';
import { expectClose, runNode } from '../testing.js';

const T = 40;
const rand = (shape: number[], seed: number): Tensor => f32(shape, fillGaussian(new Float32Array(shape.reduce((a, b) => a * b)), seed, ...shape));
const k = rand([2, T, 8], 2);
const v = rand([2, T, 6], 3);
const qFull = rand([4, T, 8], 1);
const qLast = rand([4, 13, 8], 4);

const alibi: BiasValue = { kind: 'bias', terms: [{ type: 'alibi', slopes: [0.5, 0.25, 0.125, 0.0625] }] };
const segments: BiasValue = {
  kind: 'bias',
  terms: [{ type: 'segments', segment: Int32Array.from({ length: T }, (_, i) => (i < 15 ? 0 : i < 30 ? 1 : 2)), seeAll: [2], crossLogit: -0.5 }],
};

const variants: Record<string, unknown>[] = [
  { variant: 'flash-decoding', numSplits: 3 },
  { variant: 'sliding-window', window: 7 },
  { variant: 'longformer', window: 6, globalTokens: 3 },
  { variant: 'dilated', segmentLengths: [8, 16, 40], dilationRates: [1, 2, 4] },
  { variant: 'bigbird', blockSize: 8, seed: 3 },
  { variant: 'linformer', projectedLength: 8 },
  { variant: 'linformer', projectedLength: 8, projection: 'mean' },
  { variant: 'linear' },
  { variant: 'cosformer' },
  { variant: 'relu' },
  { variant: 'sima' },
  { variant: 'soft', landmarks: 8 },
  { variant: 'paged', blockSize: 4 },
];

// Non-causal ALiBi adds +m·(j − i) for later keys: e^bias overflows the unnormalised kernels, so
// ALiBi is exercised causally (as it is used) and masks both ways.
const settings: { name: string; causal: boolean; q: Tensor; bias?: BiasValue; backends: ('cpu' | 'wasm' | 'webgpu')[] }[] = [
  { name: 'causal', causal: true, q: qFull, backends: ['cpu', 'wasm'] },
  { name: 'non-causal', causal: false, q: qFull, backends: ['cpu'] },
  { name: 'causal, last 13 queries, ALiBi', causal: true, q: qLast, bias: alibi, backends: ['cpu', 'wasm', 'webgpu'] },
  { name: 'causal, segment mask', causal: true, q: qFull, bias: segments, backends: ['cpu'] },
  { name: 'non-causal, last 13 queries, segment mask', causal: false, q: qLast, bias: segments, backends: ['cpu', 'wasm', 'webgpu'] },
];

describe.each(variants)('attention $variant matches its dense formula', (params) => {
  for (const st of settings)
    for (const backend of st.backends)
      it(`${st.name} on ${backend}`, async () => {
        await expectParity(attention, backend, { q: st.q, k, v, bias: st.bias }, { ...params, causal: st.causal }, { atol: 2e-5, rtol: 1e-4 });
      });
});

describe('flash-decoding is exact', () => {
  for (const [Tq, numSplits] of [[1, 4], [5, 1], [40, 7], [13, 64]] as const)
    it(`${Tq} queries, ${numSplits} splits: matches naive to 1e-5`, async () => {
      const q = rand([4, Tq, 8], 10 + Tq);
      const got = (await runNode(attention, { q, k, v, bias: alibi }, { variant: 'flash-decoding', numSplits }, { connected: ['out'] })).out as Tensor;
      expectClose(got.data, naiveAttentionReference(q, k, v, { causal: true, bias: alibi }).data, { atol: 1e-5 });
    });
});
