// The Transformer's fixed sinusoidal table, added to q and k for each position.
import { z } from 'zod';
import { commonParams, plainPlan, ropeInv, defineVariant } from './common.js';

export const sinusoidal = defineVariant(z.object({ variant: z.literal('sinusoidal'), ...commonParams }), {
  doc: {
    title: 'Sinusoidal (absolute)',
    summary:
      "Adds Vaswani et al.'s table to q and k: sin at even dims, cos at odd dims (always interleaved; `layout` is for rotations).",
    formula: 'PE(n, 2i) = sin(n·base^(−2i/D)), PE(n, 2i+1) = cos(n·base^(−2i/D)); q += PE(n), k += PE(n)',
    references: [{ title: 'Attention Is All You Need', year: 2017 }],
  },
  effect: 'add',
  plan: (p, D) => plainPlan(ropeInv(p.base, D)),
});
