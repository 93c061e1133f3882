// Rotary position embedding: rotate each pair of q and k by an angle proportional to the position.
import { z } from 'zod';
import { commonParams, plainPlan, ropeInv, defineVariant } from './common.js';

export const rope = defineVariant(z.object({ variant: z.literal('rope'), ...commonParams }), {
  doc: {
    title: 'RoPE',
    summary: 'Rotates pair i of q and k by n·inv_i, so q_m·k_n depends on m − n only.',
    formula: 'inv_i = base^(−2i/D); out = x·cos(n·inv) + rotate(x)·sin(n·inv)',
    references: [{ title: 'RoFormer: Enhanced Transformer with Rotary Position Embedding', year: 2021 }],
  },
  effect: 'rotate',
  plan: (p, D) => plainPlan(ropeInv(p.base, D)),
});
