// NTK-aware scaling: raise the base so high frequencies barely move and the lowest is divided by s.
import { z } from 'zod';
import { commonParams, factorParam, plainPlan, ropeInv, defineVariant } from './common.js';

const params = z.object({ variant: z.literal('ntk'), ...commonParams, factor: factorParam(4) });

export const ntk = defineVariant(params, {
  doc: {
    title: 'NTK-aware',
    summary: 'Raises the base so inv_0 is unchanged and the lowest frequency is divided by exactly s.',
    formula: "base' = base · s^(D/(D−2)); inv'_i = base'^(−2i/D)",
    references: [{ title: 'NTK-Aware Scaled RoPE (bloc97, r/LocalLLaMA)', year: 2023 }],
  },
  effect: 'rotate',
  plan(p, D) {
    const base = p.base * Math.pow(p.factor, D / (D - 2));
    return plainPlan(ropeInv(base, D), { factor: p.factor, facts: { base } });
  },
});
