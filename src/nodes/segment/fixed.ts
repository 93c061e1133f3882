// Fixed windows: consecutive windows of `windowSize` tokens (overlapping by `overlap`); a token
// attends only to tokens it shares a window with.
import { z } from 'zod';
import { MAX_LEN, commonParams, defineVariant } from './common.js';

const params = z.object({
  variant: z.literal('fixed'),
  ...commonParams,
  windowSize: z.number().int().min(1).max(MAX_LEN).default(512).describe('tokens per window'),
  overlap: z.number().int().min(0).max(MAX_LEN).default(0).describe('tokens shared by consecutive windows (< windowSize)'),
});
type P = z.infer<typeof params>;

function check(p: P): void {
  if (p.overlap >= p.windowSize) throw new Error(`fixed: overlap (${p.overlap}) must be smaller than windowSize (${p.windowSize})`);
}

export const fixed = defineVariant(params, {
  doc: {
    title: 'Fixed windows',
    summary:
      'Windows of windowSize tokens every windowSize − overlap tokens; query i sees key j only if a window holds both. Positions stay 0..T−1: RoPE being relative, each window scores exactly as if it ran alone.',
    formula: 'window w = [w·(W − o), w·(W − o) + W); allowed(i, j) ⇔ ∃w: i, j ∈ window w',
    references: [{ title: 'Blockwise Self-Attention for Long Document Understanding', year: 2020 }],
  },
  check,
  segment(p, T) {
    check(p);
    const stride = p.windowSize - p.overlap;
    const windows: [number, number][] = [];
    for (let s = 0; ; s += stride) {
      windows.push([s, Math.min(s + p.windowSize, T)]);
      if (s + p.windowSize >= T) break;
    }
    return {
      positions: Int32Array.from({ length: T }, (_, t) => t),
      terms: [{ type: 'windows', windowSize: p.windowSize, overlap: p.overlap }],
      windows: { tokens: T, count: windows.length, windows, stride, maxPosition: T - 1 },
    };
  },
});
