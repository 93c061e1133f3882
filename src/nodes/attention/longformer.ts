// Longformer / ETC global + local attention: the sliding window of sliding-window.ts, plus the
// first `globalTokens` positions, which attend to every key and are attended by every query.
// Work: O(T·(window + globalTokens)·D) for the local rows plus O(globalTokens·T·D) for the global rows.
// (Longformer gives global attention its own Q/K/V projections; this node has one set of q, k, v.)
import { z } from 'zod';
import { commonParams, defineVariant } from './common.js';
import { runFused, windowBand } from './fused.js';
import { bandOptions, bandPattern } from './sliding-window.js';
import { blockSparseAttention, patternReference, sparseCost, type SparsePattern } from './sparse.js';

type P = z.output<typeof params>;

export function longformerPattern(window: number, globalTokens: number, causal: boolean, Tk: number): SparsePattern {
  const band = bandPattern(window, causal);
  const g = globalTokens;
  return {
    keyRanges: (h, i0, i1) => (i0 < g ? [[0, Tk]] : [[0, g], ...band.keyRanges(h, i0, i1)]),
    logWeight: (h, i, j) => (i < g || j < g ? 0 : band.logWeight(h, i, j)),
    fullyVisible: (h, i0, i1, cols) => i1 <= g || cols[cols.length - 1]! < g || band.fullyVisible!(h, i0, i1, cols),
  };
}

const pattern = (p: P, Tk: number) => longformerPattern(p.window, p.globalTokens, p.causal, Tk);

const params = z.object({
  variant: z.literal('longformer'),
  ...commonParams,
  window: z.number().int().min(1).max(1 << 22).default(512).describe('local window: causal — the last `window` keys; else ±window/2'),
  globalTokens: z.number().int().min(0).max(1 << 22).default(1).describe('leading positions with global attention (e.g. a CLS token or the question)'),
});

export const longformer = defineVariant(params, {
  doc: {
    title: 'Longformer (global + local)',
    summary: 'A sliding window plus a few global positions that attend to, and are attended by, every position (Longformer, ETC).',
    formula: 'softmax over j with (j in the window of i) ∨ i < globalTokens ∨ j < globalTokens, of q_i·k_j·scale + bias',
    references: [
      { title: 'Longformer: The Long-Document Transformer', year: 2020 },
      { title: 'ETC: Encoding Long and Structured Inputs in Transformers', year: 2020 },
    ],
  },
  cost: (s, p) => sparseCost(s, pattern(p, s.Tk), p.causal, bandOptions(p.window), true),
  run: async (ctx, ins, p, s) =>
    (await runFused(ctx, ins, p, s, { bands: [windowBand(p.window, p.causal, p.globalTokens)] })) ??
    blockSparseAttention(ctx, ins, p, s, pattern(p, s.Tk), bandOptions(p.window)),
  reference: (ins, p, s) => patternReference(ins, p, s, pattern(p, s.Tk)),
  probe: (p, s) => ({ activation: 'softmax', pattern: pattern(p, s.Tk) }),
});
