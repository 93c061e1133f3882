// Dynamic NTK: NTK scaling whose base grows with the sequence actually seen (HF 'dynamic').
import { z } from 'zod';
import { MAX_LEN, commonParams, factorParam, plainPlan, ropeInv, defineVariant } from './common.js';

const params = z.object({
  variant: z.literal('dynamic'),
  ...commonParams,
  factor: factorParam(2),
  maxPositionEmbeddings: z.number().int().min(1).max(MAX_LEN).default(4096).describe('the trained context length'),
});

export const dynamic = defineVariant(params, {
  doc: {
    title: 'Dynamic NTK',
    summary: 'Plain RoPE up to the trained length; beyond it, NTK scaling with a base that grows with L = max position + 1.',
    formula: "L > maxPositionEmbeddings: base' = base · (s·L/maxPositionEmbeddings − (s − 1))^(D/(D−2)); else base' = base",
    references: [{ title: 'Dynamically Scaled RoPE further increases performance of long context LLaMA (emozilla)', year: 2023 }],
  },
  effect: 'rotate',
  plan(p, D, L) {
    const base =
      L > p.maxPositionEmbeddings
        ? p.base * Math.pow((p.factor * L) / p.maxPositionEmbeddings - (p.factor - 1), D / (D - 2))
        : p.base;
    return plainPlan(ropeInv(base, D), { facts: { base } });
  },
});
