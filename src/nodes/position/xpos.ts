// xPos: RoPE plus an exponential decay per pair that q and k carry in opposite directions, so the
// score decays with distance (ζ^((m−n)/scaleBase)).
import { z } from 'zod';
import { commonParams, ropeInv, defineVariant } from './common.js';

const params = z.object({
  variant: z.literal('xpos'),
  ...commonParams,
  scaleBase: z.number().positive().default(512).describe('positions per unit of the decay exponent'),
  gamma: z.number().min(0).max(10).default(0.4).describe('γ in ζ_i = (2i/D + γ)/(1 + γ)'),
});
export const xpos = defineVariant(params, {
  doc: {
    title: 'xPos',
    summary:
      'RoPE with a per-pair decay: q at position n scaled by ζ_i^(n/scaleBase), k by ζ_i^(−n/scaleBase); positions are used as given (not centred), so very long sequences overflow float32.',
    formula: 'ζ_i = (2i/D + γ)/(1 + γ); q̃_n = ζ^(n/scaleBase)·RoPE(q, n); k̃_n = ζ^(−n/scaleBase)·RoPE(k, n)',
    references: [{ title: 'A Length-Extrapolatable Transformer', year: 2022 }],
  },
  effect: 'rotate',
  plan(p, D) {
    const zeta = new Float64Array(D / 2);
    for (let i = 0; i < D / 2; i++) zeta[i] = ((2 * i) / D + p.gamma) / (1 + p.gamma);
    return { inv: ropeInv(p.base, D), attentionFactor: 1, xpos: { zeta, scaleBase: p.scaleBase } };
  },
});
