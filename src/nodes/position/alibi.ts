// ALiBi: no rotation; a per-head linear penalty on distance, carried as a structured bias that the
// attention kernels evaluate per tile (no T×T tensor).
import { z } from 'zod';
import { commonParams, plainPlan, defineVariant } from './common.js';

/**
 * The paper's slopes: for n a power of two, the geometric sequence starting at 2^(−8/n) with that
 * ratio; otherwise the slopes of the largest power of two p < n, then every other slope of 2p.
 */
export function alibiSlopes(n: number): number[] {
  const pow2 = (m: number) => Array.from({ length: m }, (_, h) => Math.pow(2, (-8 * (h + 1)) / m));
  if (Number.isInteger(Math.log2(n))) return pow2(n);
  const p = 2 ** Math.floor(Math.log2(n));
  return [...pow2(p), ...alibiSlopes(2 * p).filter((_, i) => i % 2 === 0).slice(0, n - p)];
}

export const alibi = defineVariant(z.object({ variant: z.literal('alibi'), ...commonParams }), {
  doc: {
    title: 'ALiBi',
    summary:
      'q and k pass through; `bias` carries one slope per head and attention adds −m_h·(i − j) to each score (indices, not the `positions` input).',
    formula: 'score(h, i, j) += −m_h·(i − j); m_h = 2^(−8(h+1)/n) for n heads a power of two',
    references: [{ title: 'Train Short, Test Long: Attention with Linear Biases Enables Input Length Extrapolation', year: 2022 }],
  },
  effect: 'none',
  plan: (_p, D) => plainPlan(new Float64Array(Math.floor(D / 2))),
  bias: (_p, H) => [{ type: 'alibi', slopes: alibiSlopes(H) }],
});
