// On the wasm backend the exact variants run on the fused kernel (counted through a pass-through
// mock) and equal the plain-TS reference, for every bias term the kernel compiles to rules; so does
// ReLU attention (the kernel's relu score mode).
import { describe, expect, it, vi } from 'vitest';
import { f32, type Tensor } from '../../engine/tensor.js';
import type { BiasValue } from '../../engine/values.js';
import { fillGaussian } from '../common/random.js';
import { expectParity } from '../testing.js';
import { attention } from './index.js';

const calls = vi.hoisted(() => ({ n: 0 }));
vi.mock('../../kernels/wasm/attention.js', async (importOriginal) => {
  const m = await importOriginal<typeof import('../../kernels/wasm/attention.js')>();
  return { ...m, fusedAttention: (...a: Parameters<typeof m.fusedAttention>) => (calls.n++, m.fusedAttention(...a)) };
});

const T = 45;
const rand = (shape: number[], seed: number): Tensor => f32(shape, fillGaussian(new Float32Array(shape.reduce((a, b) => a * b)), seed, ...shape));
const q = rand([4, T, 8], 1);
const k = rand([2, T, 8], 2);
const v = rand([2, T, 8], 3);

const biases: [string, BiasValue][] = [
  ['streaming (3 sinks, 9 recent)', { kind: 'bias', terms: [{ type: 'streaming', sinkTokens: 3, recentTokens: 9 }] }],
  ['windows (12, overlap 4)', { kind: 'bias', terms: [{ type: 'windows', windowSize: 12, overlap: 4 }] }],
  [
    'segments with a see-all segment and a cross-logit',
    { kind: 'bias', terms: [{ type: 'segments', segment: Int32Array.from({ length: T }, (_, i) => (i < 17 ? 0 : i < 33 ? 1 : 2)), seeAll: [2], crossLogit: -0.4 }] },
  ],
  [
    'ALiBi + streaming together',
    { kind: 'bias', terms: [{ type: 'alibi', slopes: [0.5, 0.25, 0.125, 0.0625] }, { type: 'streaming', sinkTokens: 2, recentTokens: 20 }] },
  ],
];

const exact: Record<string, unknown>[] = [
  { variant: 'flash' },
  { variant: 'flash-decoding', numSplits: 3 },
  { variant: 'sliding-window', window: 10 },
  { variant: 'longformer', window: 8, globalTokens: 3 },
  { variant: 'bigbird', blockSize: 8, seed: 1 },
  { variant: 'paged', blockSize: 4 },
  { variant: 'dilated', segmentLengths: [8, 16, 45], dilationRates: [1, 2, 4] },
];

describe('exact attention on the fused wasm kernel', () => {
  for (const params of exact)
    for (const causal of [true, false])
      it(`${params.variant}, ${causal ? 'causal' : 'non-causal'}: runs on the kernel and matches the reference`, async () => {
        const before = calls.n;
        await expectParity(attention, 'wasm', { q, k, v }, { ...params, causal }, { atol: 1e-5 });
        // Dilated too: every head and (segment, rate) pair as one sub-sequence of a single call.
        expect(calls.n).toBe(before + 1);
      });

  for (const [name, bias] of biases)
    for (const causal of [true, false])
      it(`flash with ${name}, ${causal ? 'causal' : 'non-causal'}`, async () => {
        await expectParity(attention, 'wasm', { q, k, v, bias }, { variant: 'flash', causal }, { atol: 1e-5 });
      });

  it('dilated with ALiBi (+ streaming): one kernel call, each row with the slope of its head (rowSlopes)', async () => {
    const alibi: BiasValue = { kind: 'bias', terms: [{ type: 'alibi', slopes: [0.5, 0.25, 0.125, 0.0625] }, { type: 'alibi', slopes: [0.1] }, { type: 'streaming', sinkTokens: 2, recentTokens: 20 }] };
    for (const causal of [true, false]) {
      const before = calls.n;
      await expectParity(attention, 'wasm', { q, k, v, bias: alibi }, { variant: 'dilated', segmentLengths: [8, 16, 45], dilationRates: [1, 2, 4], causal }, { atol: 1e-5 });
      expect(calls.n).toBe(before + 1);
    }
  });

  for (const [name, bias] of biases.filter(([n]) => !n.includes('ALiBi')))
    it(`dilated with ${name}: one call, matches the reference`, async () => {
      const before = calls.n;
      await expectParity(attention, 'wasm', { q, k, v, bias }, { variant: 'dilated', segmentLengths: [8, 16, 45], dilationRates: [1, 2, 4], causal: true }, { atol: 1e-5 });
      expect(calls.n).toBe(before + 1);
    });

  it('BigBird blocks that are not a multiple of 8 keys run the tfjs composition', async () => {
    const before = calls.n;
    await expectParity(attention, 'wasm', { q, k, v }, { variant: 'bigbird', blockSize: 6, causal: true }, { atol: 1e-5 });
    expect(calls.n).toBe(before);
  });

  // ReLU attention: the kernel's relu mode against relu.ts's float64 reference. GQA (4 heads over 2),
  // one ragged 64-key tile (T = 45); the mask biases make the visible count n_i vary per row.
  for (const [name, bias] of [['no bias', undefined] as [string, BiasValue | undefined], ...biases])
    for (const causal of [true, false])
      it(`relu with ${name}, ${causal ? 'causal' : 'non-causal'}: one kernel call, matches the reference`, async () => {
        const before = calls.n;
        await expectParity(attention, 'wasm', { q, k, v, bias }, { variant: 'relu', causal }, { atol: 1e-5 });
        expect(calls.n).toBe(before + 1);
      });

  it('relu over several tiles, fewer queries than keys (decoding rows), causal', async () => {
    const before = calls.n;
    await expectParity(attention, 'wasm', { q: rand([2, 9, 16], 4), k: rand([1, 200, 16], 5), v: rand([1, 200, 12], 6) }, { variant: 'relu', causal: true }, { atol: 1e-5 });
    expect(calls.n).toBe(before + 1);
  });

  it('the cpu backend keeps the tfjs composition', async () => {
    const before = calls.n;
    await expectParity(attention, 'cpu', { q, k, v }, { variant: 'flash', causal: true }, { atol: 1e-5 });
    expect(calls.n).toBe(before);
    await expectParity(attention, 'cpu', { q, k, v }, { variant: 'relu', causal: true }, { atol: 1e-5 });
    expect(calls.n).toBe(before);
  });
});
