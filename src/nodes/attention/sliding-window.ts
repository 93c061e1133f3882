// Sliding-window (local) attention: each query sees only nearby keys — causal: the previous
// `window` keys including itself; non-causal: ±⌊window/2⌋. The block-sparse kernel visits only
// the key tiles that overlap the band, so work is O(T·(window + block)·D).
import { z } from 'zod';
import { commonParams, defineVariant } from './common.js';
import { runFused, windowBand } from './fused.js';
import type { AttentionShape } from './reference.js';
import { blockSparseAttention, patternReference, sparseCost, type SparseOptions, type SparsePattern } from './sparse.js';

/** Causal: j ∈ (i − window, i]; non-causal: |i − j| ≤ ⌊window/2⌋. */
export function bandPattern(window: number, causal: boolean): SparsePattern {
  const half = Math.floor(window / 2);
  // A tile is fully inside the band when its farthest corners are.
  return causal
    ? {
        keyRanges: (_h, i0, i1) => [[i0 - window + 1, i1]],
        logWeight: (_h, i, j) => (i - j < window ? 0 : -Infinity),
        fullyVisible: (_h, _i0, i1, cols) => i1 - 1 - cols[0]! < window,
      }
    : {
        keyRanges: (_h, i0, i1) => [[i0 - half, i1 + half]],
        logWeight: (_h, i, j) => (Math.abs(i - j) <= half ? 0 : -Infinity),
        fullyVisible: (_h, i0, i1, cols) => i1 - 1 - cols[0]! <= half && cols[cols.length - 1]! - i0 <= half,
      };
}

// 64-row blocks even for tiny windows: fewer, larger ops beat the wasted columns on every backend.
export const bandOptions = (_window: number): SparseOptions => ({ queryBlock: 64, keyChunk: 256 });

const params = z.object({
  variant: z.literal('sliding-window'),
  ...commonParams,
  window: z.number().int().min(1).max(1 << 22).default(4096).describe('keys each query sees: causal — the last `window`; else ±window/2'),
});

export const slidingWindow = defineVariant(params, {
  doc: {
    title: 'Sliding window (local attention)',
    summary: 'Each query attends only to a band of nearby keys (Longformer/Mistral-style local attention): O(T·w·D) work and no T×T matrix.',
    formula: 'softmax over j with i − window < j ≤ i (causal) or |i − j| ≤ ⌊window/2⌋, of q_i·k_j·scale + bias',
    references: [
      { title: 'Longformer: The Long-Document Transformer', year: 2020 },
      { title: 'Generating Long Sequences with Sparse Transformers', year: 2019 },
    ],
  },
  cost: (s: AttentionShape, p) => sparseCost(s, bandPattern(p.window, p.causal), p.causal, bandOptions(p.window), true),
  run: async (ctx, ins, p, s) =>
    (await runFused(ctx, ins, p, s, { bands: [windowBand(p.window, p.causal)] })) ??
    blockSparseAttention(ctx, ins, p, s, bandPattern(p.window, p.causal), bandOptions(p.window)),
  reference: (ins, p, s) => patternReference(ins, p, s, bandPattern(p.window, p.causal)),
  probe: (p) => ({ activation: 'softmax', pattern: bandPattern(p.window, p.causal) }),
});
