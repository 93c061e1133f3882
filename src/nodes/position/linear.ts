// Position Interpolation: squeeze the positions by the factor, i.e. divide every frequency by it.
import { z } from 'zod';
import { commonParams, factorParam, plainPlan, ropeInv, defineVariant } from './common.js';

const params = z.object({ variant: z.literal('linear'), ...commonParams, factor: factorParam(4) });

export const linear = defineVariant(params, {
  doc: {
    title: 'Linear (Position Interpolation)',
    summary: 'Divides every RoPE frequency by the factor: position n rotates like n/s did during training.',
    formula: "inv'_i = base^(−2i/D) / s",
    references: [{ title: 'Extending Context Window of Large Language Models via Positional Interpolation', year: 2023 }],
  },
  effect: 'rotate',
  plan: (p, D) => plainPlan(ropeInv(p.base, D).map((v) => v / p.factor), { factor: p.factor }),
});
